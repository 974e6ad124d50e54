#@ message: plain.eml
require "include";
include "self-loop";
