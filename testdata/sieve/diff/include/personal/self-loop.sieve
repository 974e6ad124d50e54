require "include";
include "self-loop";
