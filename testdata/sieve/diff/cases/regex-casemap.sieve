#@ message: case-mix.eml
require ["regex", "fileinto"];
# The default comparator makes the regex case-insensitive.
if header :regex "subject" "^mixed case" {
  fileinto "Insensitive";
}
if header :regex :comparator "i;octet" "subject" "^mixed case" {
  fileinto "OctetToo";
}
