#@ message: plain.eml
require "imap4flags";
addflag ["one", "two"];
setflag "three";
