#@ message: multipart-mixed.eml
require ["body", "fileinto"];
# "text/x-log" names one subtype; the nested message's body is text too.
if body :content "text/x-log" :contains "quota exceeded" {
  fileinto "Log";
}
if body :content "text/plain" :contains "ten units" {
  fileinto "NestedText";
}
