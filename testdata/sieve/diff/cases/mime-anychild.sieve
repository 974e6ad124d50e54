#@ message: multipart-mixed.eml
require ["mime", "fileinto"];
if header :mime :anychild :contenttype :is "content-type" "application/pdf" {
  fileinto "HasPdf";
}
if header :mime :anychild :param "filename" :is "content-disposition" "server.log" {
  fileinto "HasLog";
}
