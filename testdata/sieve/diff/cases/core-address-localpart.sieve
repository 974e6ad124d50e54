#@ message: plain.eml
require "fileinto";
if address :localpart :is "from" "sender" {
  fileinto "ByLocalpart";
}
