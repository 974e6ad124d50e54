#@ message: plain.eml
#@ to: recipient+shopping@example.com
require ["subaddress", "envelope", "fileinto", "variables"];
if envelope :detail :matches "to" "*" {
  fileinto "Plus/${1}";
}
