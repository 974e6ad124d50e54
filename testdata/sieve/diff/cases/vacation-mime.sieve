#@ message: plain.eml
#@ execute: yes
require "vacation";
vacation :mime text:
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Je suis absent jusqu'à lundi.
.
;
