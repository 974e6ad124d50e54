#@ message: plain.eml
require "fileinto";
# :all is the address without the display name.
if address :all :is "from" "Alice Sender" {
  fileinto "Wrong";
} elsif address :all :is "from" "sender@example.org" {
  fileinto "Right";
}
