#@ message: plain.eml
require "reject";
redirect "fwd@example.net";
reject "No thanks.";
