#@ message: eightbit-headers.eml
require "fileinto";
# X-Latin1 holds a raw ISO-8859-1 byte: not valid UTF-8.
if header :contains "x-latin1" "caf" {
  fileinto "Cafe";
}
if header :is "x-latin1" "café" {
  fileinto "CafeExact";
}
