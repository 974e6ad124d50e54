#@ message: spam.eml
#@ extensions: +virustest
#@ setting: sieve_virustest_status_type=text
#@ setting: sieve_virustest_status_header=X-Virus-Scan
#@ setting: sieve_virustest_text_value1=clean
#@ setting: sieve_virustest_text_value5=infected
require ["virustest", "fileinto", "variables"];
if virustest :matches "*" {
  fileinto "virus-${1}";
}
