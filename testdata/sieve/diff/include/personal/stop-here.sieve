require "fileinto";
fileinto "BeforeStop";
stop;
