#@ message: plain.eml
require "fileinto";
fileinto "Folder";
fileinto "Folder";
keep;
fileinto "INBOX";
