require ["imap4flags"];
addflag "from-include";
