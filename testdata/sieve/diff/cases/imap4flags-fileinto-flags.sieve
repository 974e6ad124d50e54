#@ message: list.eml
require ["imap4flags", "fileinto"];
fileinto :flags ["\\Flagged", "list"] "Lists";
