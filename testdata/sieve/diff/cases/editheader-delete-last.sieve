#@ message: dup-headers.eml
#@ extensions: +editheader
require ["editheader", "index", "fileinto", "variables", "relational", "comparator-i;ascii-numeric"];
deleteheader :index 1 :last "x-tag";
if header :count "eq" :comparator "i;ascii-numeric" "x-tag" "2" {
  fileinto "TwoLeft";
}
if header :index 1 :last :matches "x-tag" "*" {
  fileinto "Last-${1}";
}
