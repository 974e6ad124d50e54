#@ message: plain.eml
require "vacation-seconds";
vacation :seconds 3600 "Away.";
