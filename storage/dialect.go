package storage

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// dialect holds what differs between SQLite and PostgreSQL outside the DDL.
// Queries are written once with $N placeholders, which both engines accept
// as written (SQLite numbers "$1"-style parameters in order of first use, and
// every query here first uses them in ascending order).
type dialect struct {
	name string
	// lockMigrations serialises schema migration between processes.
	lockMigrations string
	// lockBlobs keeps new blobs rows out while the sweeper decides a file
	// is an orphan (SQLite needs nothing: it has one writer).
	lockBlobs string
	// foreignKeysOff and foreignKeysOn bracket migrations, which may
	// rebuild a table that others reference (SQLite's procedure for that
	// asks for foreign keys off); foreignKeyCheck then lists violations
	// before the migration commits.
	foreignKeysOff, foreignKeysOn, foreignKeyCheck string
}

var (
	sqliteDialect = &dialect{name: "sqlite",
		foreignKeysOff: "PRAGMA foreign_keys = OFF", foreignKeysOn: "PRAGMA foreign_keys = ON",
		foreignKeyCheck: "PRAGMA foreign_key_check"}
	postgresDialect = &dialect{name: "postgres",
		lockMigrations: "SELECT pg_advisory_xact_lock(7061330)",
		lockBlobs:      "LOCK TABLE blobs IN SHARE ROW EXCLUSIVE MODE"}
)

// isUnique reports a unique-constraint violation.
func isUnique(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// isRetryable reports an error after which the whole transaction may simply
// be run again: SQLite BUSY/LOCKED, PostgreSQL class 40 (serialisation
// failure, deadlock).
func isRetryable(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "40")
	}
	return false
}
