#@ message: long-subject.eml
require "fileinto";
# A folded header is unfolded before the test.
if header :contains "subject" "folded over two" {
  fileinto "Unfolded";
}
