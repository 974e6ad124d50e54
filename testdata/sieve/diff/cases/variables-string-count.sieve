#@ message: plain.eml
require ["variables", "relational", "comparator-i;ascii-numeric", "fileinto"];
set "a" "x";
set "b" "";
# Empty strings are not counted.
if string :count "eq" :comparator "i;ascii-numeric" ["${a}", "${b}", "z"] "2" {
  fileinto "TwoNonEmpty";
}
