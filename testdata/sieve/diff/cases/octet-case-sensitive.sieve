#@ message: case-mix.eml
require "fileinto";
if header :is :comparator "i;octet" "subject" "mixed case subject" {
  fileinto "Folded";
} elsif header :is :comparator "i;octet" "subject" "MiXeD CaSe Subject" {
  fileinto "Exact";
}
