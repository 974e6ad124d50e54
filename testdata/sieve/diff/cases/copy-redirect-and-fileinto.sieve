#@ message: plain.eml
require ["copy", "fileinto"];
redirect :copy "backup@example.net";
fileinto "Moved";
