#@ message: dates.eml
require ["date", "fileinto"];
if date :matches "x-nonexistent" "year" "*" {
  fileinto "Found";
}
if not date :is "x-nonexistent" "year" "2025" {
  fileinto "NotFound";
}
