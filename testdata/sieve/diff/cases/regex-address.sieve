#@ message: addresses.eml
require ["regex", "fileinto"];
if address :regex :localpart "from" "^frank\\.foo\\+" {
  fileinto "Frank";
}
