#@ message: plain.eml
require ["include", "fileinto"];
include :optional "does-not-exist";
fileinto "Continued";
