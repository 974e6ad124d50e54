#@ message: dup-headers.eml
require ["index", "fileinto"];
if header :index 2 :is "x-tag" "second" {
  fileinto "Second";
}
if header :index 1 :last :is "x-tag" "third" {
  fileinto "LastIsThird";
}
if header :index 4 :is "x-tag" "first" {
  fileinto "OutOfRange";
}
