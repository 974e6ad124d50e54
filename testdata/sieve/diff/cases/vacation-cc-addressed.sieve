#@ message: cc-only.eml
#@ execute: yes
require "vacation";
vacation "Away.";
