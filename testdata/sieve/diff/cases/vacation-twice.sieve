#@ message: plain.eml
require "vacation";
# Only one vacation action per run.
vacation "First.";
vacation "Second.";
