#@ message: list.eml
require ["mailbox", "fileinto"];
fileinto :create "Lists/new-list";
