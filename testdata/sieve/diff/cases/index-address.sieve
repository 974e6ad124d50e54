#@ message: addresses.eml
require ["index", "fileinto"];
# :index counts header fields, not addresses.
if address :index 1 :is "to" "gina@sub.example.org" {
  fileinto "SameField";
}
