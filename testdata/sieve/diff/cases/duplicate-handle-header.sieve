#@ message: list.eml
require ["duplicate", "fileinto"];
if duplicate :handle "lists" :header "list-id" :seconds 3600 {
  discard;
}
