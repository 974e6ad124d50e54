#@ message: plain.eml
require "variables";
set "1bad" "x";
