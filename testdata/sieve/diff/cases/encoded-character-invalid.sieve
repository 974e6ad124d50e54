#@ message: plain.eml
require ["encoded-character", "fileinto"];
# Malformed encodings stay as they are.
fileinto "a${hex:zz}b${unicode:}c${hex: 41 }";
