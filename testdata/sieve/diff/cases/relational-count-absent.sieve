#@ message: plain.eml
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
# An absent header counts 0.
if header :count "eq" :comparator "i;ascii-numeric" "x-nothing" "0" {
  fileinto "Zero";
}
