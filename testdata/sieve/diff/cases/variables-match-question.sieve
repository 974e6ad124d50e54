#@ message: numbers.eml
require ["variables", "fileinto"];
if header :matches "subject" "Build ?? *" {
  fileinto "${1}${2}-${3}";
}
