#@ message: list.eml
require "fileinto";
if header :contains "list-id" "devel.lists.example.net" {
  fileinto "Lists/devel";
}
