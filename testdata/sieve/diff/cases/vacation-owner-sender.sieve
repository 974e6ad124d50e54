#@ message: plain.eml
#@ execute: yes
#@ from: devel-owner@lists.example.net
require "vacation";
vacation "Away.";
