#@ message: plain.eml
#@ execute: yes
require "vacation";
vacation :handle "holiday-2025" :days 14 "On holiday.";
