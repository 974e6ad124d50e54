#@ message: plain.eml
require "duplicate";
if duplicate :header "subject" :uniqueid "x" {
  discard;
}
