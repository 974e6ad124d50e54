#@ message: plain.eml
fileinto "Folder";
