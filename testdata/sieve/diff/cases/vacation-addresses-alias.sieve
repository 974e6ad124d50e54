#@ message: alias.eml
#@ execute: yes
require "vacation";
# The message is addressed to an alias named in :addresses.
vacation :addresses ["robin.alias@example.com"] "Away.";
