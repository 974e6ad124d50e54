#@ message: plain.eml
require ["variables", "fileinto"];
# :lower runs before :upperfirst; :length runs last.
set :upperfirst :lower "a" "hELLO wORLD";
set :length :upper "b" "four";
fileinto "${a}/${b}";
