#@ message: plain.eml
#@ extensions: +editheader
require "editheader";
addheader "Bad Name" "x";
