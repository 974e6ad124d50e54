#@ message: plain.eml
require ["variables", "fileinto"];
if string :comparator "i;ascii-casemap" :is "Robin" "robin" {
  fileinto "ExplicitCasemap";
}
if string :is "Robin" "robin" {
  fileinto "DefaultComparator";
}
