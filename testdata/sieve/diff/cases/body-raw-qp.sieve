#@ message: qp-latin1.eml
require ["body", "fileinto"];
# :raw sees the transfer encoding undone by nobody.
if body :raw :contains "caf=E9" {
  fileinto "RawEncoded";
}
if body :raw :contains "café" {
  fileinto "RawDecoded";
}
