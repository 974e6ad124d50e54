#@ message: spam.eml
# Without "+spamtest" Pigeonhole does not offer the extension.
require "spamtest";
if spamtest "10" {
  discard;
}
