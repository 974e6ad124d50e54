#@ message: plain.eml
require ["include", "variables", "fileinto"];
global "folder";
include "set-folder";
fileinto "${folder}";
