#@ message: encoded-words.eml
require "fileinto";
if header :contains "subject" "Grüße aus" {
  fileinto "Decoded";
}
if header :contains "subject" "=?UTF-8?" {
  fileinto "Raw";
}
