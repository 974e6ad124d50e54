#@ message: plain.eml
require "vacation";
vacation :from "not an address" "Away.";
