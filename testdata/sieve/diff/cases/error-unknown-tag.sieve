#@ message: plain.eml
if header :frobs "subject" "x" {
  discard;
}
