#@ message: plain.eml
require ["variables", "fileinto"];
set :lower "a" "MiXeD";
set :upper "b" "MiXeD";
set :lowerfirst "c" "MiXeD";
set :upperfirst "d" "miXeD";
set :length "e" "MiXeD";
fileinto "${a}-${b}-${c}-${d}-${e}";
