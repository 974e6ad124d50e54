#@ message: plain.eml
# More redirects than allowed (4 by default in both) fail at run time.
redirect "a@example.net";
redirect "b@example.net";
redirect "c@example.net";
redirect "d@example.net";
redirect "e@example.net";
