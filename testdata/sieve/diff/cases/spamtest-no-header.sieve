#@ message: plain.eml
#@ extensions: +spamtest
#@ setting: sieve_spamtest_status_type=score
#@ setting: sieve_spamtest_status_header=X-Spam-Score
#@ setting: sieve_spamtest_max_value=10
require ["spamtest", "fileinto"];
# No status header: the test result is "0" (not tested).
if spamtest :is "0" {
  fileinto "NotTested";
}
