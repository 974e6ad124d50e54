#@ message: dates.eml
require ["date", "fileinto", "variables"];
if date :originalzone :matches "resent-date" "zone" "*" {
  set "z" "${1}";
}
if date :zone "+0000" :matches "resent-date" "time" "*" {
  set "t" "${1}";
}
fileinto "${z}/${t}";
