#@ message: dates.eml
require ["date", "relational", "fileinto"];
if date :value "ge" :originalzone "date" "date" "2025-03-01" {
  fileinto "AfterFirst";
}
if date :value "lt" :originalzone "date" "date" "2025-03-10" {
  fileinto "BeforeTenth";
}
