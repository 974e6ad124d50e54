package storage

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"letterbox/migrations"
)

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations of one dialect, in order.
func loadMigrations(d *dialect) ([]migration, error) {
	entries, err := fs.ReadDir(migrations.FS, d.name)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s/%s: name must be NNNN_what.sql", d.name, e.Name())
		}
		text, err := fs.ReadFile(migrations.FS, d.name+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(text)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations %s: expected version %d, found %s", d.name, i+1, m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the newest schema this program knows.
func SchemaVersion() int {
	ms, _ := loadMigrations(sqliteDialect)
	return len(ms)
}

// migrate brings db to the newest schema, one transaction per migration. A
// database whose schema is newer than this program is refused: running old
// code on it could lose data.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	ms, err := loadMigrations(d)
	if err != nil {
		return err
	}
	// One connection throughout: the foreign-key setting is per connection.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if d.foreignKeysOff != "" {
		// Outside a transaction: SQLite ignores the pragma inside one.
		if _, err := conn.ExecContext(ctx, d.foreignKeysOff); err != nil {
			return err
		}
		defer conn.ExecContext(context.Background(), d.foreignKeysOn)
	}
	for {
		done, err := migrateOne(ctx, conn, d, ms)
		if done || err != nil {
			return err
		}
	}
}

// migrateOne applies the next migration, if any, in one transaction.
func migrateOne(ctx context.Context, conn *sql.Conn, d *dialect, ms []migration) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil || done {
			tx.Rollback()
		}
	}()
	if d.lockMigrations != "" {
		if _, err := tx.ExecContext(ctx, d.lockMigrations); err != nil {
			return false, err
		}
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return false, err
	}
	if have > len(ms) {
		return false, fmt.Errorf("%w: database has schema version %d, this program knows up to %d; upgrade letterbox", ErrTooNew, have, len(ms))
	}
	if have == len(ms) {
		return true, nil
	}
	m := ms[have]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s/%s: %w", d.name, m.name, err)
	}
	if d.foreignKeyCheck != "" {
		rows, err := tx.QueryContext(ctx, d.foreignKeyCheck)
		if err != nil {
			return false, err
		}
		bad := rows.Next()
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
		if bad {
			return false, fmt.Errorf("migration %s/%s: leaves rows that break a foreign key", d.name, m.name)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`, m.version, time.Now().Unix()); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s/%s: %w", d.name, m.name, err)
	}
	return false, nil
}

// Migrate brings every database up to the newest schema and returns how
// many it checked. (Databases are also migrated when first opened; this
// does all of them now, as "letterbox migrate".)
func (s *Store) Migrate(ctx context.Context) (int, error) {
	if _, ok := s.router.(*pgRouter); ok {
		return 1, nil // migrated by Open
	}
	domains, err := s.Domains(ctx)
	if err != nil {
		return 0, err
	}
	for _, d := range domains {
		if err := s.withTenant(ctx, d, func(*tenant) error { return nil }); err != nil {
			return 0, fmt.Errorf("domain %s: %w", d, err)
		}
	}
	return len(domains), nil
}
