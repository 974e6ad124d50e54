#@ message: list.eml
#@ execute: yes
#@ to: devel@lists.example.net
require "vacation";
vacation :addresses ["devel@lists.example.net"] "Away.";
