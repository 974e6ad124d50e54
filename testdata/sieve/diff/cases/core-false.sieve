#@ message: plain.eml
if false {
  discard;
}
if not true {
  discard;
}
