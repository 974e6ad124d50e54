#@ message: plain.eml
stop "now";
