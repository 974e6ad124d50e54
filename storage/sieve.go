package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxScriptName bounds a Sieve script name (RFC 5804 section 1.6 asks for
// at least 128 characters to be supported).
const maxScriptName = 255

// validScriptName refuses names that are empty, too long, or hold control
// characters (RFC 5804 section 1.6).
func validScriptName(name string) error {
	if name == "" || len(name) > maxScriptName || !utf8.ValidString(name) {
		return fmt.Errorf("%w: script name %q", ErrInvalidName, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == 0x2028 || r == 0x2029 {
			return fmt.Errorf("%w: script name %q has a control character", ErrInvalidName, name)
		}
	}
	return nil
}

// PutSieveScript creates or replaces a script by name; whether it is active
// does not change. Compiling it is the caller's job (package sieve).
func (s *Store) PutSieveScript(ctx context.Context, a *Account, name, content string) error {
	return s.PutSieveScriptMax(ctx, a, name, content, 0)
}

// PutSieveScriptMax is PutSieveScript for an account that may hold at most
// maxScripts scripts (0: no limit). A new name past the limit fails with
// ErrOverQuota; replacing a script always works. The count is taken inside
// the write, so two sessions cannot both slip past the limit.
func (s *Store) PutSieveScriptMax(ctx context.Context, a *Account, name, content string, maxScripts int) error {
	defer s.sieveGen.Add(1)
	if err := validScriptName(name); err != nil {
		return err
	}
	return s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			if maxScripts > 0 {
				var count, same int
				// SQLite numbers $N parameters in the order they first appear.
				err := tx.QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = $1 THEN 1 ELSE 0 END), 0)
					FROM sieve_scripts WHERE account_id = $2`, name, a.ID).Scan(&count, &same)
				if err != nil {
					return err
				}
				if same == 0 && count >= maxScripts {
					return fmt.Errorf("%w: %s has %d Sieve scripts, the most allowed", ErrOverQuota, a.Name, count)
				}
			}
			if _, err := bumpModSeq(tx, a, 0); err != nil {
				return err
			}
			_, err := tx.Exec(`INSERT INTO sieve_scripts (account_id, name, content, updated) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, name) DO UPDATE SET content = excluded.content, updated = excluded.updated`,
				a.ID, name, content, time.Now().Unix())
			return err
		})
	})
}

// SieveScripts lists a's scripts (without content), sorted by name.
func (s *Store) SieveScripts(ctx context.Context, a *Account) ([]SieveScript, error) {
	var out []SieveScript
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		rows, err := t.db.QueryContext(ctx, `SELECT name, active, updated FROM sieve_scripts WHERE account_id = $1`, a.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sc SieveScript
			var updated int64
			if err := rows.Scan(&sc.Name, &sc.Active, &updated); err != nil {
				return err
			}
			sc.Updated = time.Unix(updated, 0)
			out = append(out, sc)
		}
		return rows.Err()
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// SieveScript reads one script by name.
func (s *Store) SieveScript(ctx context.Context, a *Account, name string) (*SieveScript, error) {
	return s.sieveScript(ctx, a, `name = $2`, name)
}

// ActiveSieveScript reads a's active script; ErrNotFound when none is.
func (s *Store) ActiveSieveScript(ctx context.Context, a *Account) (*SieveScript, error) {
	// "active" written out, not bound: SQLite uses the partial index
	// sieve_one_active only for a condition it can read in the query.
	return s.sieveScript(ctx, a, `active AND $2`, true)
}

func (s *Store) sieveScript(ctx context.Context, a *Account, cond string, arg any) (*SieveScript, error) {
	var sc SieveScript
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		var updated int64
		err := t.db.QueryRowContext(ctx, `SELECT name, content, active, updated FROM sieve_scripts WHERE account_id = $1 AND `+cond,
			a.ID, arg).Scan(&sc.Name, &sc.Content, &sc.Active, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sieve script %v: %w", arg, ErrNotFound)
		}
		sc.Updated = time.Unix(updated, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sc, nil
}

// ActivateSieveScript makes name a's only active script; "" deactivates all.
func (s *Store) ActivateSieveScript(ctx context.Context, a *Account, name string) error {
	defer s.sieveGen.Add(1)
	return s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			if _, err := bumpModSeq(tx, a, 0); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE sieve_scripts SET active = FALSE WHERE account_id = $1 AND active`, a.ID); err != nil {
				return err
			}
			if name == "" {
				return nil
			}
			res, err := tx.Exec(`UPDATE sieve_scripts SET active = TRUE WHERE account_id = $1 AND name = $2`, a.ID, name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("sieve script %q: %w", name, ErrNotFound)
			}
			return nil
		})
	})
}

// ErrActiveScript refuses to delete the active script (RFC 5804 section 2.10).
var ErrActiveScript = errors.New("script is active")

// DeleteSieveScript deletes an inactive script.
func (s *Store) DeleteSieveScript(ctx context.Context, a *Account, name string) error {
	defer s.sieveGen.Add(1)
	return s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			if _, err := bumpModSeq(tx, a, 0); err != nil {
				return err
			}
			var active bool
			err := tx.QueryRow(`SELECT active FROM sieve_scripts WHERE account_id = $1 AND name = $2`, a.ID, name).Scan(&active)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sieve script %q: %w", name, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if active {
				return fmt.Errorf("sieve script %q: %w", name, ErrActiveScript)
			}
			_, err = tx.Exec(`DELETE FROM sieve_scripts WHERE account_id = $1 AND name = $2`, a.ID, name)
			return err
		})
	})
}

// RenameSieveScript renames a script, keeping its content and activity.
func (s *Store) RenameSieveScript(ctx context.Context, a *Account, from, to string) error {
	defer s.sieveGen.Add(1)
	if err := validScriptName(to); err != nil {
		return err
	}
	return s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			if _, err := bumpModSeq(tx, a, 0); err != nil {
				return err
			}
			res, err := tx.Exec(`UPDATE sieve_scripts SET name = $1 WHERE account_id = $2 AND name = $3`, to, a.ID, from)
			if isUnique(err) {
				return fmt.Errorf("sieve script %q: %w", to, ErrExists)
			}
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("sieve script %q: %w", from, ErrNotFound)
			}
			return nil
		})
	})
}

// SieveGeneration changes whenever this Store writes a Sieve script, so
// that a cache of scripts can tell it is stale. Writes by other processes
// (the CLI, other PostgreSQL nodes) do not change it: such a cache also
// needs an age limit.
func (s *Store) SieveGeneration() uint64 { return s.sieveGen.Load() }
