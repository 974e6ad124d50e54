#@ message: bulk.eml
#@ execute: yes
require "vacation";
vacation "Away.";
