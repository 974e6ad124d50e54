#@ message: encoded-words.eml
require ["variables", "fileinto"];
# :length counts characters, not bytes.
if header :matches "subject" "*" {
  set :length "n" "${1}";
  fileinto "len${n}";
}
