#@ message: plain.eml
require ["reject", "vacation"];
vacation "Away.";
reject "No thanks.";
