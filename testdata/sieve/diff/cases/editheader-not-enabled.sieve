#@ message: plain.eml
require "editheader";
addheader "X-A" "b";
