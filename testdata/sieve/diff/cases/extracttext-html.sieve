#@ message: multipart-alt.eml
require ["foreverypart", "mime", "extracttext", "variables", "fileinto"];
foreverypart {
  if header :mime :contenttype :is "content-type" "text/html" {
    extracttext "h";
  }
}
if string :contains "${h}" "café" {
  fileinto "HtmlText";
}
