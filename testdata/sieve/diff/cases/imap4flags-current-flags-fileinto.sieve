#@ message: plain.eml
require ["imap4flags", "fileinto"];
# fileinto without :flags uses the current internal flags.
addflag ["\\Flagged", "Work"];
fileinto "Work";
removeflag "Work";
fileinto "Other";
