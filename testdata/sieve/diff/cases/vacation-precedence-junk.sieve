#@ message: junk-precedence.eml
#@ execute: yes
require "vacation";
vacation "Away.";
