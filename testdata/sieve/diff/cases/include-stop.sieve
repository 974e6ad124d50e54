#@ message: plain.eml
require ["include", "fileinto"];
# stop in an included script ends the whole run.
include "stop-here";
fileinto "NotReached";
