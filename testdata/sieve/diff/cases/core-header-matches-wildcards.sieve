#@ message: plain.eml
require "fileinto";
if header :matches "subject" "?uarterly*" {
  fileinto "Q";
}
