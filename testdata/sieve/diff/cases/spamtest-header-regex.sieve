#@ message: spam.eml
#@ extensions: +spamtest
#@ setting: sieve_spamtest_status_type=score
#@ setting: sieve_spamtest_status_header=X-Spam-Report: [[:alpha:]]+, score=(-?[[:digit:]]+\.[[:digit:]])
#@ setting: sieve_spamtest_max_value=5.0
require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" {
  fileinto "score-${1}";
}
