#@ message: addresses.eml
require "fileinto";
# Group syntax in Cc: the members are addresses, the group name is not.
if address :is "cc" "ivy@example.com" {
  fileinto "GroupMember";
}
if address :is "cc" "team" {
  fileinto "GroupName";
}
