#@ message: plain.eml
#@ execute: yes
#@ from: <>
require "vacation";
vacation "Away.";
