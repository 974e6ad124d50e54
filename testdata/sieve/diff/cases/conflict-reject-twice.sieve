#@ message: plain.eml
require "reject";
reject "First.";
reject "Second.";
