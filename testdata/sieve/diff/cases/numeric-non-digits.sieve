#@ message: numbers.eml
require ["comparator-i;ascii-numeric", "fileinto"];
# A value that starts with no digit is positive infinity; "12abc" is 12.
if header :is :comparator "i;ascii-numeric" "x-mixed" "12" {
  fileinto "Twelve";
}
if header :is :comparator "i;ascii-numeric" "x-label" "infinity" {
  fileinto "Infinity";
}
