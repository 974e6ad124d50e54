#@ message: list.eml
require "fileinto";
if header :contains "subject" "invoice" {
  fileinto "Invoices";
} elsif header :contains "subject" "report" {
  fileinto "Reports";
} else {
  fileinto "Other";
}
