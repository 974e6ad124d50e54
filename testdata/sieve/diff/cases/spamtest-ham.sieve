#@ message: ham.eml
#@ extensions: +spamtest
#@ setting: sieve_spamtest_status_type=score
#@ setting: sieve_spamtest_status_header=X-Spam-Score
#@ setting: sieve_spamtest_max_value=10
require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" {
  fileinto "score-${1}";
}
