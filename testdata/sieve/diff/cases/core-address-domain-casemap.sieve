#@ message: addresses.eml
require "fileinto";
# Domains compare with i;ascii-casemap by default.
if address :domain :is "from" "example.com" {
  fileinto "DomainMatched";
}
