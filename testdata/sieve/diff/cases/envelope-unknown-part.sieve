#@ message: plain.eml
require ["envelope", "fileinto"];
# Only "from" and "to" are envelope parts here.
if envelope :is "x-unknown" "x" {
  fileinto "X";
}
