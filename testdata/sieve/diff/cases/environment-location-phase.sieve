#@ message: plain.eml
#@ env: location=MS
#@ env: phase=post
require ["environment", "fileinto", "variables"];
# sieve-test runs as a mail store ("MS") after delivery ("post"); our side
# is told the same through the env directive.
if environment :matches "location" "*" {
  set "l" "${1}";
}
if environment :matches "phase" "*" {
  set "p" "${1}";
}
fileinto "${l}-${p}";
