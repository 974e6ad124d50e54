#@ message: plain.eml
if header :is "subject" "unterminated {
  discard;
}
