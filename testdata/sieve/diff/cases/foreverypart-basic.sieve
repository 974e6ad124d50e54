#@ message: multipart-mixed.eml
require ["foreverypart", "mime", "fileinto", "variables"];
set "types" "";
foreverypart {
  if header :mime :contenttype :matches "content-type" "*" {
    set "types" "${types}+${1}";
  }
}
fileinto "${types}";
