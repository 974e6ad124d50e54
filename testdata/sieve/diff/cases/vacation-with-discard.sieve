#@ message: plain.eml
#@ execute: yes
require "vacation";
vacation "Away.";
discard;
