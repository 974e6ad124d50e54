#@ message: plain.eml
#@ extensions: +editheader
require ["editheader", "fileinto"];
# Received cannot be deleted.
deleteheader "received";
if exists "received" {
  fileinto "Kept";
}
