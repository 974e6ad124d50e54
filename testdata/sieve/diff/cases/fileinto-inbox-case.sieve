#@ message: plain.eml
require "fileinto";
# INBOX is case-insensitive: these are one store action.
fileinto "inbox";
fileinto "INBOX";
