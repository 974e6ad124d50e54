#@ message: alias.eml
#@ to: recipient@example.com
#@ orig-to: robin.alias@example.com
require ["envelope", "fileinto"];
# The envelope "to" is the final recipient, not the original one.
if envelope :is "to" "robin.alias@example.com" {
  fileinto "Original";
} elsif envelope :is "to" "recipient@example.com" {
  fileinto "Final";
}
