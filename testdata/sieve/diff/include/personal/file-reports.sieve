require ["fileinto"];
if header :contains "subject" "report" {
  fileinto "Reports";
}
