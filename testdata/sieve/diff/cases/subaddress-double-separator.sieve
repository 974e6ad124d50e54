#@ message: addresses.eml
require ["subaddress", "fileinto", "variables"];
if address :detail :matches "bcc" "*" {
  fileinto "Detail/${1}";
}
if address :user :matches "bcc" "*" {
  fileinto "User/${1}";
}
