#@ message: plain.eml
require "vacation";
# Below the minimum period (one day in both) the period is raised.
vacation :days 0 "Away.";
