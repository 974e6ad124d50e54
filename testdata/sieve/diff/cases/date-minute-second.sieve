#@ message: dates.eml
require ["date", "fileinto", "variables"];
if date :originalzone :matches "date" "minute" "*" {
  set "mi" "${1}";
}
if date :originalzone :matches "date" "second" "*" {
  set "s" "${1}";
}
fileinto "m${mi}s${s}";
