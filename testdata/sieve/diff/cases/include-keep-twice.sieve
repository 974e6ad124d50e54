#@ message: plain.eml
require "include";
include :global "keep-copy";
keep;
