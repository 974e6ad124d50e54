#@ message: eightbit-headers.eml
require "fileinto";
if header :contains "subject" "Mañana" {
  fileinto "Spanish";
}
