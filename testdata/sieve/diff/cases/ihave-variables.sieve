#@ message: plain.eml
require ["ihave", "fileinto"];
if ihave "variables" {
  fileinto "HaveVariables";
} else {
  fileinto "NoVariables";
}
