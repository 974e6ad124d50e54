#@ message: dup-headers.eml
#@ extensions: +editheader
require ["editheader", "index", "fileinto"];
addheader "X-Tag" "zeroth";
addheader :last "X-Tag" "fourth";
if header :index 1 :is "x-tag" "zeroth" {
  fileinto "FirstIsNew";
}
if header :index 1 :last :is "x-tag" "fourth" {
  fileinto "LastIsNew";
}
