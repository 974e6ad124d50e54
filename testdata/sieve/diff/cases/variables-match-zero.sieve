#@ message: plain.eml
require ["variables", "fileinto"];
if address :matches "from" "*@*" {
  fileinto "${0}|${1}|${2}|${3}";
}
