#@ message: spam.eml
require ["reject", "ereject"];
if header :is "x-spam-flag" "YES" {
  ereject "Spam refused.";
}
