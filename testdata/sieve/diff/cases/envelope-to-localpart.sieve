#@ message: plain.eml
#@ to: robin@example.com
require ["envelope", "fileinto"];
if envelope :localpart :is "to" "robin" {
  fileinto "Robin";
}
