#@ message: encoded-words.eml
require ["variables", "fileinto"];
if header :matches "subject" "*" {
  set :upper "u" "${1}";
  fileinto "${u}";
}
