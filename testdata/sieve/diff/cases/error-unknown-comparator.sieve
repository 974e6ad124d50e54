#@ message: plain.eml
if header :comparator "i;nonexistent" :is "subject" "x" {
  discard;
}
