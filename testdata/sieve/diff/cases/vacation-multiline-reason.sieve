#@ message: plain.eml
#@ execute: yes
require "vacation";
vacation text:
Hello,

I am away.
Regards
.
;
