#@ message: list.eml
require ["copy", "fileinto"];
fileinto :copy "Lists";
