#@ message: ham.eml
#@ extensions: +spamtest +spamtestplus
#@ setting: sieve_spamtest_status_type=score
#@ setting: sieve_spamtest_status_header=X-Spam-Score
#@ setting: sieve_spamtest_max_value=10
require ["spamtestplus", "relational", "comparator-i;ascii-numeric", "fileinto"];
if spamtest :percent :value "lt" :comparator "i;ascii-numeric" "10" {
  fileinto "BelowTenPercent";
}
