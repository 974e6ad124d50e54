#@ message: multipart-mixed.eml
require ["foreverypart", "mime", "extracttext", "variables", "fileinto"];
foreverypart {
  if header :mime :contenttype :is "content-type" "text/x-log" {
    extracttext :first 14 "log";
  }
}
fileinto "${log}";
