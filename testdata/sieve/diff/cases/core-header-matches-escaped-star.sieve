#@ message: plain.eml
require "fileinto";
# An escaped star matches only a literal star.
if header :matches "subject" "Quarterly\\*" {
  fileinto "Literal";
} else {
  fileinto "NoLiteral";
}
