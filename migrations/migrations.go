// Package migrations holds the numbered SQL schema migrations, one folder per
// dialect, embedded in the binary. Files are named NNNN_what.sql and applied in
// order; a database whose schema is newer than the highest number here is
// refused.
package migrations

import "embed"

//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
