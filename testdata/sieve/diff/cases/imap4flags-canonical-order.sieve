#@ message: plain.eml
require "imap4flags";
# Duplicates (any case) collapse; invalid flags are dropped.
addflag ["\\SEEN", "\\answered", "Foo", "foo \\Deleted", "\\Bogus", "$Junk"];
removeflag "\\deleted";
