#@ message: plain.eml
require ["ihave", "fileinto"];
if ihave ["envelope", "x-nonexistent"] {
  fileinto "All";
} elsif ihave ["envelope", "body"] {
  fileinto "Both";
}
