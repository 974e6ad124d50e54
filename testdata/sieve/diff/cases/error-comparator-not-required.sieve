#@ message: numbers.eml
if header :is :comparator "i;ascii-numeric" "x-build" "42" {
  discard;
}
