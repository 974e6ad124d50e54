#@ message: encoded-words.eml
require "fileinto";
if header :contains "from" "André Müller" {
  fileinto "Name";
}
if address :is "from" "andre@example.de" {
  fileinto "Address";
}
