#@ message: plain.eml
require ["duplicate", "fileinto"];
if duplicate {
  discard;
} else {
  fileinto "FirstTime";
}
