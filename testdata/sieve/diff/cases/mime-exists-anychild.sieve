#@ message: multipart-mixed.eml
require ["mime", "fileinto"];
if exists :mime :anychild "content-transfer-encoding" {
  fileinto "SomePartEncoded";
}
