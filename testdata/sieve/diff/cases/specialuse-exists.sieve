#@ message: spam.eml
#@ extensions: +special-use
#@ mailboxes: Spam
#@ special-use: Spam=\Junk
require ["special-use", "fileinto"];
if specialuse_exists "\\Junk" {
  fileinto "AnyJunk";
}
if specialuse_exists "Spam" "\\Junk" {
  fileinto "SpamIsJunk";
}
if specialuse_exists "\\Archive" {
  fileinto "AnyArchive";
}
