#@ message: autosubmitted.eml
#@ execute: yes
require "vacation";
vacation "Away.";
