#@ message: case-mix.eml
require "fileinto";
if header :matches :comparator "i;octet" "subject" "M?X*Subject" {
  fileinto "OctetMatch";
}
if header :contains :comparator "i;octet" "subject" "case" {
  fileinto "LowerCase";
}
