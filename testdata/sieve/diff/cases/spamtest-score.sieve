#@ message: spam.eml
#@ extensions: +spamtest +relational +comparator-i;ascii-numeric
#@ setting: sieve_spamtest_status_type=score
#@ setting: sieve_spamtest_status_header=X-Spam-Score
#@ setting: sieve_spamtest_max_value=10
require ["spamtest", "relational", "comparator-i;ascii-numeric", "fileinto", "variables"];
# 7.5 of 10 scales to 1 + 9 * 0.75 = 7.75 on the 1..10 scale.
if spamtest :value "ge" :comparator "i;ascii-numeric" "7" {
  fileinto "Junk";
}
if spamtest :matches "*" {
  fileinto "score-${1}";
}
