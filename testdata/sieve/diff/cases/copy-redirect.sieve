#@ message: plain.eml
require "copy";
redirect :copy "backup@example.net";
