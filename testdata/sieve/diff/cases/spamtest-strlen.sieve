#@ message: spam.eml
#@ extensions: +spamtest
#@ setting: sieve_spamtest_status_type=strlen
#@ setting: sieve_spamtest_status_header=X-Spam-Level
#@ setting: sieve_spamtest_max_value=10
require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" {
  fileinto "level-${1}";
}
