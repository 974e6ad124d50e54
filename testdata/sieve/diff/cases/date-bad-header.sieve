#@ message: dates.eml
require ["date", "fileinto"];
# A field that is not a date matches nothing.
if date :matches "x-bad-date" "year" "*" {
  fileinto "Parsed";
} else {
  fileinto "Unparsed";
}
