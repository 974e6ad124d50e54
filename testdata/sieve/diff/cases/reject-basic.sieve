#@ message: spam.eml
require "reject";
if header :contains "subject" "won" {
  reject "I do not accept lottery mail.";
}
