#@ message: multipart-alt.eml
require ["body", "fileinto"];
if body :text :contains "café meeting" {
  fileinto "Cafe";
}
