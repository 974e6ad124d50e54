#@ message: dates.eml
require ["date", "index", "fileinto", "variables"];
if date :index 1 :zone "+0000" :matches "received" "time" "*" {
  set "first" "${1}";
}
if date :index 1 :last :zone "+0000" :matches "received" "time" "*" {
  set "last" "${1}";
}
fileinto "${first}|${last}";
