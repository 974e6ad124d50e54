#@ message: plain.eml
if true {
  stop;
}
discard;
