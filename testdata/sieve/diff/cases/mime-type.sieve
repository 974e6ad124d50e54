#@ message: multipart-mixed.eml
require ["mime", "fileinto"];
if header :mime :type :is "content-type" "multipart" {
  fileinto "Multipart";
}
if header :mime :subtype :is "content-type" "mixed" {
  fileinto "Mixed";
}
