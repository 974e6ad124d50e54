#@ message: ham.eml
#@ extensions: +virustest
#@ setting: sieve_virustest_status_type=score
#@ setting: sieve_virustest_status_header=X-Virus-Score
#@ setting: sieve_virustest_max_value=5
require ["virustest", "relational", "comparator-i;ascii-numeric", "fileinto", "variables"];
if virustest :matches "*" {
  fileinto "virus-${1}";
}
