#@ message: plain.eml
require "fileinto";
if allof (anyof (false, header :contains "subject" "report"), not header :contains "subject" "invoice", true) {
  fileinto "Nested";
}
