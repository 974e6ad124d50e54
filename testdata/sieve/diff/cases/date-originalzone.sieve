#@ message: dates.eml
require ["date", "fileinto", "variables"];
# Date: Mon, 10 Mar 2025 23:45:10 -0500
if date :originalzone :matches "date" "time" "*" {
  set "t" "${1}";
}
if date :originalzone :matches "date" "zone" "*" {
  set "z" "${1}";
}
fileinto "${t} ${z}";
