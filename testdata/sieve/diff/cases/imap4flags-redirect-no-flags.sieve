#@ message: plain.eml
require ["imap4flags"];
addflag "\\Seen";
redirect "fwd@example.net";
keep;
