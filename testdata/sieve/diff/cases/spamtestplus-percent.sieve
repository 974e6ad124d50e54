#@ message: spam.eml
#@ extensions: +spamtest +spamtestplus
#@ setting: sieve_spamtest_status_type=score
#@ setting: sieve_spamtest_status_header=X-Spam-Score
#@ setting: sieve_spamtest_max_value=10
require ["spamtestplus", "fileinto", "variables"];
if spamtest :percent :matches "*" {
  fileinto "percent-${1}";
}
