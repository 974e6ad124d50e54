#@ message: multipart-mixed.eml
require ["foreverypart", "mime", "fileinto"];
# Inside the loop, header tests see the current part's header.
foreverypart {
  if header :contains "subject" "Original order" {
    fileinto "NestedSubject";
  }
}
