#@ message: plain.eml
redirect "archive@example.net";
