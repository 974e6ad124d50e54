#@ message: dates.eml
require ["date", "fileinto", "variables"];
if date :zone "-0800" :matches "date" "std11" "*" {
  fileinto "${1}";
}
