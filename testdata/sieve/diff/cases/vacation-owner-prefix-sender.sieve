#@ message: plain.eml
#@ execute: yes
#@ from: owner-devel@lists.example.net
require "vacation";
vacation "Away.";
