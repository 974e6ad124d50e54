#@ message: qp-latin1.eml
require ["body", "fileinto"];
# :text decodes quoted-printable and converts ISO-8859-1 to UTF-8.
if body :text :contains "café est fermé" {
  fileinto "Decoded";
}
if body :text :contains "line break joined" {
  fileinto "SoftBreak";
}
