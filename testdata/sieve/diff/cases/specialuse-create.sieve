#@ message: spam.eml
#@ extensions: +special-use
require ["special-use", "fileinto", "mailbox"];
fileinto :specialuse "\\Archive" :create "Archive";
