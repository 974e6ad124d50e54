#@ message: encoded-words.eml
require ["encoded-character", "fileinto"];
if header :contains "subject" "Gr${unicode:fc}${unicode:00DF}e" {
  fileinto "Unicode";
}
