#@ message: plain.eml
require ["environment", "fileinto"];
if environment :matches "name" "?*" {
  fileinto "HasName";
}
if environment :matches "remote-ip" "*" {
  fileinto "HasRemoteIP";
}
