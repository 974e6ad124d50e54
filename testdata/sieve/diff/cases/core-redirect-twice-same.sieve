#@ message: plain.eml
# The same redirect twice is one action.
redirect "archive@example.net";
redirect "Archive@example.net";
