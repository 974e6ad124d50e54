#@ message: large.eml
require "fileinto";
# large.eml is 4720 bytes with LF line ends and 4786 with CRLF (as delivered).
if size :over 4719 {
  fileinto "Over4719";
}
if size :over 4720 {
  fileinto "Over4720";
}
if size :under 4787 {
  fileinto "Under4787";
}
if size :over 4785 {
  fileinto "Over4785";
}
