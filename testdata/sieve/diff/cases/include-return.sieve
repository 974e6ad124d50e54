#@ message: plain.eml
require ["include", "fileinto"];
include "return-early";
fileinto "Continued";
