require "fileinto";
fileinto "Broken"
