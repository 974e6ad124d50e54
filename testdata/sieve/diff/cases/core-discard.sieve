#@ message: plain.eml
discard;
