#@ message: plain.eml
require "fileinto";
# sieve-test shortens names longer than 128 bytes when it prints them.
fileinto "Archive/A-very-long-folder-name-that-goes-on-and-on-and-on/and-has-several-levels/of-hierarchy/so-that-it-exceeds/one-hundred-and-twenty-eight-bytes";
