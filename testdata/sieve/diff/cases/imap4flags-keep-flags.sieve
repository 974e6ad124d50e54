#@ message: plain.eml
require "imap4flags";
addflag "\\Answered";
keep :flags "\\Draft";
