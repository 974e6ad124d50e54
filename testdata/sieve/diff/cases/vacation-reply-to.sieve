#@ message: addresses.eml
#@ execute: yes
#@ from: frank.foo+lists@example.com
#@ to: recipient+sieve@example.com
require "vacation";
vacation "Away.";
