#@ message: plain.eml
require ["body", "fileinto"];
# The body does not include the header.
if body :contains "Subject:" {
  fileinto "HeaderInBody";
} else {
  fileinto "BodyOnly";
}
