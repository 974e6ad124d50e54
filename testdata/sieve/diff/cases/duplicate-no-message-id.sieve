#@ message: no-subject.eml
require ["duplicate", "fileinto"];
# Without a Message-ID the test is false.
if duplicate {
  fileinto "Dup";
} else {
  fileinto "NotDup";
}
