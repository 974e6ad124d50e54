#@ message: plain.eml
require "fileinto";
fileinto "First";
stop;
fileinto "Second";
