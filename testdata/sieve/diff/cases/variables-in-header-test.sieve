#@ message: list.eml
require ["variables", "fileinto"];
set "hdr" "list-id";
set "want" "devel";
if header :contains "${hdr}" "${want}" {
  fileinto "Dynamic";
}
