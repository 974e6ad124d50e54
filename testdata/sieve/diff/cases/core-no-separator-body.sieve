#@ message: no-separator.eml
require ["fileinto", "body"];
if body :contains "should have been" {
  fileinto "BodySeen";
}
