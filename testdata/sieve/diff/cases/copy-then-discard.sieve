#@ message: plain.eml
require ["copy", "fileinto"];
fileinto :copy "Copies";
discard;
