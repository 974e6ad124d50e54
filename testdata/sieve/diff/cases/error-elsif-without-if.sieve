#@ message: plain.eml
elsif true {
  discard;
}
