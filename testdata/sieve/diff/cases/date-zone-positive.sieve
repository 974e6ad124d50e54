#@ message: dates.eml
require ["date", "fileinto", "variables"];
if date :zone "+0530" :matches "date" "iso8601" "*" {
  fileinto "${1}";
}
