#@ message: numbers.eml
require "comparator-i;ascii-numeric";
if header :matches :comparator "i;ascii-numeric" "x-build" "4*" {
  discard;
}
