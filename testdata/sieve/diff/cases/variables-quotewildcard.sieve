#@ message: plain.eml
require ["variables", "fileinto"];
set :quotewildcard "pat" "Quarterly*";
if header :matches "subject" "${pat}" {
  fileinto "Literal";
} else {
  fileinto "NoMatch";
}
set :quotewildcard "q" "a*b?c\\d";
if string :is "${q}" "a\\*b\\?c\\\\d" {
  fileinto "Quoted";
}
