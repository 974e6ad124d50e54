#@ message: plain.eml
require "ihave";
if ihave "fileinto" {
  fileinto "HaveFileinto";
}
