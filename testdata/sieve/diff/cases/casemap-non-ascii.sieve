#@ message: encoded-words.eml
require "fileinto";
# i;ascii-casemap folds ASCII letters only: Ü and ü differ.
if header :contains "subject" "GRÜSSE" {
  fileinto "Folded";
} elsif header :contains "subject" "GRüßE" {
  fileinto "AsciiOnly";
}
