#@ message: numbers.eml
require "relational";
if header :value "gg" "x-build" "1" {
  discard;
}
