#@ message: plain.eml
#@ from: Sender@Example.ORG
require ["envelope", "fileinto"];
if envelope :all :is "from" "sender@example.org" {
  fileinto "Casemapped";
}
