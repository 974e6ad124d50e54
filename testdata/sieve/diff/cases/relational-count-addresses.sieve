#@ message: addresses.eml
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
# :count on address counts addresses, not header fields.
if address :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] "5" {
  fileinto "Five";
} elsif address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "1" {
  fileinto "Some";
}
