#@ message: spam.eml
#@ extensions: +special-use
#@ mailboxes: Spam
#@ special-use: Spam=\Junk
require ["special-use", "fileinto"];
fileinto :specialuse "\\Junk" "Junk";
