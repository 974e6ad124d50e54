#@ message: plain.eml
redirect :copy "backup@example.net";
