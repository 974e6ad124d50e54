#@ message: plain.eml
frobnicate "x";
