#@ message: addresses.eml
require ["subaddress", "fileinto"];
if address :user :is "to" "recipient" {
  fileinto "User";
}
if address :detail :is "to" "sieve" {
  fileinto "Detail";
}
