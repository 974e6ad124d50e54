#@ message: plain.eml
require "fileinto";
if size :under 1k {
  fileinto "Small";
}
