#@ message: selfsent.eml
#@ execute: yes
#@ from: recipient@example.com
require "vacation";
vacation "Away.";
