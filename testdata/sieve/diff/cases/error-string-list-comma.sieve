#@ message: plain.eml
if header :is ["subject" "from"] "x" {
  discard;
}
