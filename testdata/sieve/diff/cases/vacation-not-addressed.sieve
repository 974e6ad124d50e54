#@ message: notaddressed.eml
#@ execute: yes
require "vacation";
# The recipient is in neither To nor Cc: no reply.
vacation "Away.";
