#@ message: plain.eml
require "fileinto";
# Without the extension "${hex:41}" is plain text.
fileinto "${hex:41}";
