#@ message: spam.eml
#@ extensions: +special-use
require ["special-use", "fileinto"];
fileinto :specialuse "Junk" "Junk";
