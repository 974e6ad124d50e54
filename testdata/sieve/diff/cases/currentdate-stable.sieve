#@ message: plain.eml
require ["date", "relational", "fileinto"];
# Only time-independent facts about "now".
if currentdate :value "ge" "year" "2024" {
  fileinto "AfterPast";
}
if currentdate :zone "+0500" :is "zone" "+0500" {
  fileinto "ZoneAsAsked";
}
if currentdate :matches "iso8601" "*" {
  fileinto "HasIso";
}
