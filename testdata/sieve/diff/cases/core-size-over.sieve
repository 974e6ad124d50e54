#@ message: large.eml
require "fileinto";
if size :over 2K {
  fileinto "Big";
}
if size :over 1M {
  fileinto "Huge";
}
