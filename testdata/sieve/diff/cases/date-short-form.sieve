#@ message: dates.eml
require ["date", "fileinto", "variables"];
# No weekday, no seconds, a named zone.
if date :originalzone :matches "x-short-date" "iso8601" "*" {
  fileinto "${1}";
}
