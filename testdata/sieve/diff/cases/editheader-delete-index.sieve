#@ message: dup-headers.eml
#@ extensions: +editheader
require ["editheader", "index", "fileinto", "variables"];
deleteheader :index 2 "x-tag";
if header :index 2 :matches "x-tag" "*" {
  fileinto "Now-${1}";
}
