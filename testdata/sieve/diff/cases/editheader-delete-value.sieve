#@ message: dup-headers.eml
#@ extensions: +editheader
require ["editheader", "fileinto", "variables"];
deleteheader :matches "x-tag" "*ir*";
if header :matches "x-tag" "*" {
  fileinto "Left-${1}";
}
