#@ message: spam.eml
#@ extensions: +spamtest
#@ setting: sieve_spamtest_status_type=text
#@ setting: sieve_spamtest_status_header=X-Spam-Verdict
#@ setting: sieve_spamtest_text_value1=Clean
#@ setting: sieve_spamtest_text_value10=Spam
require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" {
  fileinto "text-${1}";
}
