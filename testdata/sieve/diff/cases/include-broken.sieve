#@ message: plain.eml
require "include";
include "broken";
