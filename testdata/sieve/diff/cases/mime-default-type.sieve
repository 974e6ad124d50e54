#@ message: no-subject.eml
require ["mime", "fileinto"];
# No Content-Type: text/plain is assumed.
if header :mime :contenttype :is "content-type" "text/plain" {
  fileinto "Default";
} else {
  fileinto "NoDefault";
}
