#@ message: plain.eml
require "imap4flags";
# Flags set during the run go with the implicit keep.
setflag "\\Seen";
addflag "$Reviewed";
