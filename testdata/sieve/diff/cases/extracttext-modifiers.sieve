#@ message: multipart-alt.eml
require ["foreverypart", "mime", "extracttext", "variables", "fileinto"];
foreverypart {
  if header :mime :contenttype :is "content-type" "text/plain" {
    extracttext :upper :first 17 "t";
  }
}
fileinto "${t}";
