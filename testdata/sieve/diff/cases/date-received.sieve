#@ message: dates.eml
require ["date", "fileinto", "variables"];
# The date of a Received field is the one after its last semicolon.
if date :originalzone :matches "received" "iso8601" "*" {
  fileinto "${1}";
}
