#@ message: plain.eml
require ["body", "fileinto"];
if body :matches "*quarterly report*" {
  fileinto "Matches";
}
