#@ message: plain.eml
require ["include", "fileinto"];
include :personal "file-reports";
fileinto "AfterInclude";
