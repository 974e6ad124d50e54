#@ message: case-mix.eml
require ["comparator-i;ascii-casemap", "fileinto"];
if header :contains :comparator "i;ascii-casemap" "subject" "mixed CASE" {
  fileinto "Casemap";
}
