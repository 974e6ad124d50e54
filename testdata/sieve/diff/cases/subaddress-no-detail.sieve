#@ message: plain.eml
require ["subaddress", "fileinto"];
# Without a separator :detail does not match, not even "*".
if address :detail :matches "from" "*" {
  fileinto "HasDetail";
} else {
  fileinto "NoDetail";
}
