#@ message: plain.eml
#@ extensions: +editheader
require ["editheader", "fileinto"];
# A non-ASCII value is stored encoded and reads back decoded.
addheader "X-Greeting" "Grüße";
if header :is "x-greeting" "Grüße" {
  fileinto "RoundTrip";
}
