#@ message: autosubmitted-no.eml
#@ execute: yes
require "vacation";
# "Auto-Submitted: no" is a message from a person: it is answered.
vacation "Away.";
