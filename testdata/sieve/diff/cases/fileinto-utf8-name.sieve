#@ message: encoded-words.eml
require "fileinto";
fileinto "Archiv/Grüße";
