#@ message: multipart-alt.eml
require ["mime", "fileinto", "variables"];
if header :mime :contenttype :is "content-type" "multipart/alternative" {
  fileinto "Alternative";
}
if header :mime :param "boundary" :matches "content-type" "*" {
  fileinto "b-${1}";
}
