#@ message: plain.eml
#@ execute: yes
require "vacation";
vacation "I am away until Monday.";
