#@ message: plain.eml
require ["variables", "fileinto"];
if header :matches "subject" "*report" {
  set "first" "${1}";
}
# A failing match leaves the match variables as they were.
if header :matches "subject" "nomatch*" {
  set "x" "y";
}
fileinto "${first}/${1}";
