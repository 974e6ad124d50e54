#@ message: plain.eml
require ["reject", "fileinto"];
fileinto "Folder";
reject "No thanks.";
