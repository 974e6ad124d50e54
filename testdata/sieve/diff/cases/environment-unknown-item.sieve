#@ message: plain.eml
require ["environment", "fileinto"];
if environment :matches "x-no-such-item" "*" {
  fileinto "Exists";
} else {
  fileinto "Absent";
}
