#@ message: plain.eml
require ["variables", "fileinto"];
set "Folder" "CaseInsensitiveNames";
fileinto "${FOLDER}";
