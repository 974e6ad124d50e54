#@ message: numbers.eml
require ["comparator-i;ascii-numeric", "fileinto"];
if header :is :comparator "i;ascii-numeric" "x-priority" "03" {
  fileinto "LeadingZero";
}
