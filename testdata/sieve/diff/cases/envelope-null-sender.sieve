#@ message: autosubmitted.eml
#@ from: <>
require ["envelope", "fileinto"];
# The null reverse path is the empty string.
if envelope :is "from" "" {
  fileinto "NullSender";
}
if envelope :matches "from" "*@*" {
  fileinto "HasAddress";
}
