#@ message: html-only.eml
require ["body", "fileinto"];
# :text turns HTML into text: the words stay, tags and style sheets go.
if body :text :contains "7781" {
  fileinto "Words";
}
if body :text :contains "<b>" {
  fileinto "Tags";
}
if body :text :contains "color" {
  fileinto "Style";
}
