#@ message: plain.eml
discard;
redirect "fwd@example.net";
