#@ message: plain.eml
require "reject";
/* A bracketed comment
   spanning lines */
if header :is "subject" text:
Quarterly report
.
{
  # hash comment
  reject text:
Not today.
..dot-stuffed line
.
;
}
