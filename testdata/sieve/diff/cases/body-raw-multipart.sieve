#@ message: multipart-alt.eml
require ["body", "fileinto"];
if body :raw :contains "--alt-boundary" {
  fileinto "Boundary";
}
if body :raw :contains "caf=C3=A9" {
  fileinto "RawQP";
}
