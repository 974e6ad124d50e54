#@ message: spam.eml
require "reject";
reject "";
