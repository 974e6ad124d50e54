#@ message: plain.eml
# A constant that is not an address is refused at compile time.
redirect "not an address";
