#@ message: no-separator.eml
require "fileinto";
# The header has no blank line after it; the following line has no colon.
if header :contains "subject" "blank" {
  fileinto "SubjectSeen";
}
if exists "date" {
  fileinto "DateSeen";
}
