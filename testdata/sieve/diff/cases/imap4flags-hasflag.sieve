#@ message: plain.eml
require ["imap4flags", "fileinto"];
addflag "Important \\Seen";
if hasflag :is "important" {
  fileinto "HasImportant";
}
if hasflag :contains "\\seen" {
  fileinto "HasSeen";
}
