#@ message: plain.eml
require ["include", "imap4flags"];
include :once "add-flag";
include :once "add-flag";
