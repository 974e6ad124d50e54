#@ message: dates.eml
require ["date", "fileinto", "variables"];
# Converted to +0000 the date moves to the next day.
if date :zone "+0000" :matches "date" "date" "*" {
  set "d" "${1}";
}
if date :zone "+0000" :matches "date" "hour" "*" {
  set "h" "${1}";
}
if date :zone "+0000" :matches "date" "weekday" "*" {
  set "w" "${1}";
}
fileinto "${d}T${h} w${w}";
