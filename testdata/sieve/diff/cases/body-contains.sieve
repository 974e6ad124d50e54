#@ message: plain.eml
require ["body", "fileinto"];
if body :contains "numbers look fine" {
  fileinto "Body";
}
