#@ message: plain.eml
require ["encoded-character", "fileinto"];
fileinto "${hex:51 75 61 72}terly";
