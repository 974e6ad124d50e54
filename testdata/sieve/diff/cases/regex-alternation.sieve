#@ message: numbers.eml
require ["regex", "fileinto", "variables"];
if header :regex "subject" "(Build|Test) ([0-9]+) (passed|finished)" {
  fileinto "${1}-${2}-${3}";
}
