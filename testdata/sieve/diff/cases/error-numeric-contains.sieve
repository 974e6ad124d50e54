#@ message: numbers.eml
# i;ascii-numeric cannot do substring matching.
require "comparator-i;ascii-numeric";
if header :contains :comparator "i;ascii-numeric" "x-build" "4" {
  discard;
}
