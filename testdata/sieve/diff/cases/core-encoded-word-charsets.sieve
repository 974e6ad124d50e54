#@ message: encoded-words.eml
require "fileinto";
# Two encoded words in different charsets separated by plain text.
if header :is "x-note" "café and crème" {
  fileinto "Both";
}
if header :contains "to" "Jörg" {
  fileinto "Latin1Name";
}
