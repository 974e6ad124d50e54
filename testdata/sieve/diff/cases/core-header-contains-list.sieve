#@ message: plain.eml
require "fileinto";
if header :contains ["to", "subject"] ["nothing", "REPORT"] {
  fileinto "Found";
}
