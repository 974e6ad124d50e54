#@ message: addresses.eml
require "fileinto";
# X-Address holds no valid address; address tests on it do not match a domain.
if address :domain :contains "x-address" "example" {
  fileinto "Matched";
} else {
  fileinto "NotMatched";
}
