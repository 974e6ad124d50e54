#@ message: no-subject.eml
require "fileinto";
# A missing header matches nothing, not even the empty string.
if header :contains "subject" "" {
  fileinto "HasSubject";
} elsif not exists "subject" {
  fileinto "NoSubject";
}
