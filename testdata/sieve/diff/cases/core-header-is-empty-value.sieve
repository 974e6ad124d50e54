#@ message: numbers.eml
require "fileinto";
if header :is "x-empty" "" {
  fileinto "EmptyValue";
}
