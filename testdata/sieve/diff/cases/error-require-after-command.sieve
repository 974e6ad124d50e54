#@ message: plain.eml
keep;
require "fileinto";
fileinto "x";
