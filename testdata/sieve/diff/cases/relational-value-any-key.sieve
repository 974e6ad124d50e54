#@ message: numbers.eml
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
# Two X-Version fields (10 and 9): one satisfying value is enough.
if header :value "lt" :comparator "i;ascii-numeric" "x-version" "10" {
  fileinto "SomeBelowTen";
}
