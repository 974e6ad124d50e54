#@ message: spam.eml
require "reject";
reject text:
Your message was refused.
Please stop.
.
;
