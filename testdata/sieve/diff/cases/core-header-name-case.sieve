#@ message: case-mix.eml
require "fileinto";
if allof (header :contains "SUBJECT" "mixed case", exists "X-LOWER", address :is "From" "upper@example.org") {
  fileinto "CaseInsensitive";
}
