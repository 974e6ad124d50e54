#@ message: dates.eml
require "date";
if date :zone "CET" :is "date" "year" "2025" {
  discard;
}
