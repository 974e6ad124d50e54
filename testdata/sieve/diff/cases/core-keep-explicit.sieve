#@ message: plain.eml
keep;
