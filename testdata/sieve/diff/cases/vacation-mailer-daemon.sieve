#@ message: plain.eml
#@ execute: yes
#@ from: MAILER-DAEMON@example.org
require "vacation";
vacation "Away.";
