#@ message: dup-headers.eml
require "index";
if header :last :is "x-tag" "third" {
  discard;
}
