#@ message: plain.eml
require ["encoded-character", "fileinto"];
# A surrogate code point is an error.
fileinto "${unicode:D800}";
