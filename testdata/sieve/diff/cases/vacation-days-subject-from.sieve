#@ message: plain.eml
#@ execute: yes
require "vacation";
vacation :days 3 :subject "Out of office" :from "Robin Recipient <recipient@example.com>" "Back on the 20th.";
