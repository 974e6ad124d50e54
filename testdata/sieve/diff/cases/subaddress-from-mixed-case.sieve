#@ message: addresses.eml
require ["subaddress", "fileinto"];
if address :detail :is "from" "LISTS" {
  fileinto "ListsDetail";
}
