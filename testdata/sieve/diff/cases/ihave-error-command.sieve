#@ message: plain.eml
require ["ihave"];
error "custom failure";
