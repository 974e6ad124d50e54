#@ message: list.eml
require ["variables", "fileinto"];
if header :matches "subject" "[*] *" {
  fileinto "Lists/${1}/${2}";
}
