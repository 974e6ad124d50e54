#@ message: plain.eml
#@ from: bounce+abc@lists.example.net
require ["envelope", "fileinto"];
if envelope :domain :is "from" "lists.example.net" {
  fileinto "FromList";
}
