#@ message: plain.eml
if {
  discard;
}
