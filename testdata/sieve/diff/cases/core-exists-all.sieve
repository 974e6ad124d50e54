#@ message: plain.eml
require "fileinto";
if exists ["from", "x-nonexistent"] {
  fileinto "Both";
} elsif exists ["from", "date"] {
  fileinto "FromAndDate";
}
