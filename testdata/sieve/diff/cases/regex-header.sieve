#@ message: list.eml
require ["regex", "fileinto"];
if header :regex "subject" "^\\[[a-z]+\\] .*[0-9]+\\.[0-9]+$" {
  fileinto "Regex";
}
