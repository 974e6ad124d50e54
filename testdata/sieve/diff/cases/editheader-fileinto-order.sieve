#@ message: plain.eml
#@ extensions: +editheader
require ["editheader", "fileinto"];
fileinto "Before";
addheader "X-Marker" "1";
fileinto "After";
deleteheader "x-marker";
if not exists "x-marker" {
  fileinto "Gone";
}
