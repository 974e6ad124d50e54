#@ message: plain.eml
require ["extracttext", "variables"];
extracttext "x";
