#@ message: list.eml
require ["regex", "variables", "fileinto"];
if header :regex "list-id" "<([a-z]+)\\.lists\\.([a-z.]+)>" {
  fileinto "${1}/${2}/${0}";
}
