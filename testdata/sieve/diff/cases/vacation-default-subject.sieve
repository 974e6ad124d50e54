#@ message: encoded-words.eml
#@ execute: yes
require "vacation";
# The default subject is "Auto: " and the original subject.
vacation "Away.";
