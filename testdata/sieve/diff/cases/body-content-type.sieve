#@ message: multipart-mixed.eml
require ["body", "fileinto"];
if body :content "text" :contains "invoice attached" {
  fileinto "TextPart";
}
if body :content "application/pdf" :contains "JVBER" {
  fileinto "PdfRaw";
}
