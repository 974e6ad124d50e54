#@ message: plain.eml
#@ mailboxes: Work, Lists/devel
require ["mailbox", "fileinto"];
if mailboxexists "Work" {
  fileinto "Work";
}
if mailboxexists "Lists/devel" {
  fileinto "Lists/devel";
}
