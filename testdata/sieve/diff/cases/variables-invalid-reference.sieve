#@ message: plain.eml
require ["variables", "fileinto"];
# Malformed references are kept literally.
set "a" "A";
fileinto "${a}${}${a-b}${ a}${1a}";
