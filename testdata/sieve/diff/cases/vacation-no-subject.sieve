#@ message: no-subject.eml
#@ execute: yes
require "vacation";
vacation "Away.";
