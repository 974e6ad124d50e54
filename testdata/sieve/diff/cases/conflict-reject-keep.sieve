#@ message: plain.eml
require "reject";
reject "No thanks.";
keep;
