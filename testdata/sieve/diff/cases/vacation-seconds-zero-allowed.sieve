#@ message: plain.eml
#@ extensions: +vacation-seconds
#@ setting: sieve_vacation_min_period=0
require "vacation-seconds";
vacation :seconds 0 "Always reply.";
