#@ message: plain.eml
require ["imap4flags", "variables", "fileinto"];
set "myflags" "";
addflag "myflags" ["a", "b"];
addflag "myflags" "c a";
removeflag "myflags" "b";
fileinto :flags "${myflags}" "Vars";
if hasflag "myflags" "c" {
  fileinto "HasC";
}
