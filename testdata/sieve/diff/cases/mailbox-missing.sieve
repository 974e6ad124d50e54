#@ message: plain.eml
#@ mailboxes: Work
require ["mailbox", "fileinto"];
# Every name must exist.
if mailboxexists ["Work", "Missing"] {
  fileinto "All";
} else {
  fileinto "NotAll";
}
