#@ message: plain.eml
#@ extensions: +vacation-seconds
require "vacation-seconds";
vacation :seconds 90000 "Away.";
