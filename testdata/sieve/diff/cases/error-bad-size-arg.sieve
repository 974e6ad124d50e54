#@ message: plain.eml
if size :over "10" {
  discard;
}
