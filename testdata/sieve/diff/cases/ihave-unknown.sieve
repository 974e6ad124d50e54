#@ message: plain.eml
require ["ihave", "fileinto"];
# An unknown extension inside an ihave block is no compile error.
if ihave "x-nonexistent" {
  frobnicate "x";
} else {
  fileinto "NoSuchExtension";
}
