# Sets the global variable "folder" for the including script.
require ["include", "variables"];
global "folder";
set "folder" "Included";
