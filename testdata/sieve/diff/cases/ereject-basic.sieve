#@ message: spam.eml
require "ereject";
ereject "Refused at SMTP time.";
