#@ message: plain.eml
require ["variables", "fileinto"];
set "name" "Robin";
if string :is "${name}" "robin" {
  fileinto "Casemapped";
}
if string :matches ["${unset}", "x"] "" {
  fileinto "EmptyUnset";
}
