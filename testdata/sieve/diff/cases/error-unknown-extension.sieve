#@ message: plain.eml
require "x-no-such-extension";
