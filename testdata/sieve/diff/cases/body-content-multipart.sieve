#@ message: multipart-alt.eml
require ["body", "fileinto"];
# A multipart type matches the preamble and epilogue.
if body :content "multipart" :contains "multi-part message in MIME format" {
  fileinto "Preamble";
}
