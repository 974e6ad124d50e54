#@ message: multipart-mixed.eml
require ["foreverypart", "mime", "fileinto"];
foreverypart :name "outer" {
  if header :mime :type :is "content-type" "application" {
    fileinto "FoundApplication";
    break :name "outer";
  }
  if header :mime :subtype :is "content-type" "x-log" {
    fileinto "ReachedLog";
  }
}
