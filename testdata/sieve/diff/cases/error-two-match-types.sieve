#@ message: plain.eml
if header :is :contains "subject" "x" {
  discard;
}
