#@ message: plain.eml
require "reject";
reject "No thanks.";
discard;
