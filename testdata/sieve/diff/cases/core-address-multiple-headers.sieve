#@ message: addresses.eml
require "fileinto";
if address :domain :is ["to", "cc", "bcc"] "sub.example.org" {
  fileinto "Sub";
}
