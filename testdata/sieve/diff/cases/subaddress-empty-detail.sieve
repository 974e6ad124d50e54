#@ message: addresses.eml
require ["subaddress", "fileinto"];
# "jo+" has an empty detail; "ivy" has none at all.
if address :detail :is "cc" "" {
  fileinto "EmptyDetail";
}
if address :user :is "cc" "jo" {
  fileinto "UserJo";
}
