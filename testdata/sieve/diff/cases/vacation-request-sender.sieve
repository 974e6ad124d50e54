#@ message: plain.eml
#@ execute: yes
#@ from: devel-request@lists.example.net
require "vacation";
vacation "Away.";
