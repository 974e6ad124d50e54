#@ message: plain.eml
require "fileinto";
# \" and \\ are escapes; any other backslash just drops.
fileinto "quote\"d\\ba\ckslash";
