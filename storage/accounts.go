package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DefaultMailboxes are created with every account, with their special-use
// attributes (RFC 6154).
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{"INBOX", ""},
	{"Drafts", SpecialDrafts},
	{"Sent", SpecialSent},
	{"Trash", SpecialTrash},
	{"Junk", SpecialJunk},
	{"Archive", SpecialArchive},
}

// AddDomain starts hosting a domain (SQLite: creates its database file).
func (s *Store) AddDomain(ctx context.Context, domain string) error {
	return s.router.addDomain(ctx, domain)
}

// Domains lists the hosted domains.
func (s *Store) Domains(ctx context.Context) ([]string, error) { return s.router.domains(ctx) }

// DeleteDomain stops hosting a domain and deletes all of its accounts and
// mail (SQLite: removes its database file and blobs).
func (s *Store) DeleteDomain(ctx context.Context, domain string) error {
	if _, ok := s.router.(*sqliteRouter); ok {
		return s.router.deleteDomain(ctx, domain)
	}
	return s.withTenant(ctx, domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			if err := releaseBlobs(tx, `SELECT blob FROM messages WHERE account_id IN (SELECT id FROM accounts WHERE domain = $1)`, domain); err != nil {
				return err
			}
			res, err := tx.Exec(`DELETE FROM domains WHERE name = $1`, domain)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("%w: %s", ErrNoDomain, domain)
			}
			return nil
		})
	})
}

// releaseBlobs drops one reference per row that query (with args) returns
// from the blobs those rows name; blobs left with none are stamped so that
// Sweep removes them after the grace period.
func releaseBlobs(tx *txn, query string, args ...any) error {
	rows, err := tx.Query(`SELECT blob, COUNT(*) FROM (`+query+`) AS r GROUP BY blob`, args...)
	if err != nil {
		return fmt.Errorf("release blobs: %w", err)
	}
	counts := map[string]int64{}
	for rows.Next() {
		var h []byte
		var n int64
		if err := rows.Scan(&h, &n); err != nil {
			rows.Close()
			return err
		}
		counts[string(h)] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for h, n := range counts {
		if err := unrefBlob(tx, []byte(h), n); err != nil {
			return err
		}
	}
	return nil
}

func unrefBlob(tx *txn, hash []byte, n int64) error {
	_, err := tx.Exec(`UPDATE blobs SET refs = refs - $1,
		unref_since = CASE WHEN refs - $1 <= 0 THEN $2 ELSE unref_since END WHERE hash = $3`,
		n, time.Now().Unix(), hash)
	return err
}

// CreateAccount adds a user with a password hash (see package auth) and a
// quota in bytes (0: unlimited), and gives it the default mailboxes.
func (s *Store) CreateAccount(ctx context.Context, login, passwordHash string, quotaBytes int64) (*Account, error) {
	name, domain, err := splitLogin(login)
	if err != nil {
		return nil, err
	}
	if quotaBytes < 0 {
		return nil, fmt.Errorf("quota must not be negative")
	}
	a := &Account{Name: name, Domain: domain, PasswordHash: passwordHash, QuotaBytes: quotaBytes, Created: time.Now().Truncate(time.Second)}
	err = s.withTenant(ctx, domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			var ok int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM domains WHERE name = $1`, domain).Scan(&ok); err != nil {
				return err
			}
			if ok == 0 {
				return fmt.Errorf("%w: %s", ErrNoDomain, domain)
			}
			err := tx.QueryRow(`INSERT INTO accounts (name, domain, password, quota_bytes, created)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`, name, domain, passwordHash, quotaBytes, a.Created.Unix()).Scan(&a.ID)
			if isUnique(err) {
				return fmt.Errorf("account %s: %w", name, ErrExists)
			}
			if err != nil {
				return err
			}
			for _, mb := range DefaultMailboxes {
				if _, err := createMailboxTx(tx, a, mb.Name, mb.SpecialUse); err != nil {
					return err
				}
				if _, err := tx.Exec(`INSERT INTO subscriptions (account_id, name) VALUES ($1, $2)`, a.ID, mb.Name); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

const accountColumns = `id, name, domain, password, quota_bytes, used_bytes, created`

func scanAccount(row interface{ Scan(...any) error }) (*Account, error) {
	var a Account
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &a.Domain, &a.PasswordHash, &a.QuotaBytes, &a.UsedBytes, &created); err != nil {
		return nil, err
	}
	a.Created = time.Unix(created, 0)
	return &a, nil
}

// Account looks an account up by login (user@domain, any case).
func (s *Store) Account(ctx context.Context, login string) (*Account, error) {
	name, domain, err := splitLogin(login)
	if err != nil {
		return nil, err
	}
	var a *Account
	err = s.withTenant(ctx, domain, func(t *tenant) error {
		a, err = scanAccount(t.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("account %s: %w", name, ErrNotFound)
		}
		return err
	})
	return a, err
}

// Accounts lists the accounts of a domain.
func (s *Store) Accounts(ctx context.Context, domain string) ([]*Account, error) {
	var out []*Account
	err := s.withTenant(ctx, domain, func(t *tenant) error {
		rows, err := t.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE domain = $1 ORDER BY name`, domain)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteAccount deletes an account with all its mailboxes, messages and
// scripts.
func (s *Store) DeleteAccount(ctx context.Context, login string) error {
	name, domain, err := splitLogin(login)
	if err != nil {
		return err
	}
	return s.withTenant(ctx, domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			if err := releaseBlobs(tx, `SELECT blob FROM messages WHERE account_id = (SELECT id FROM accounts WHERE name = $1)`, name); err != nil {
				return err
			}
			res, err := tx.Exec(`DELETE FROM accounts WHERE name = $1`, name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("account %s: %w", name, ErrNotFound)
			}
			return nil
		})
	})
}

// SetPassword replaces an account's password hash.
func (s *Store) SetPassword(ctx context.Context, login, passwordHash string) error {
	return s.updateAccount(ctx, login, `UPDATE accounts SET password = $1 WHERE name = $2`, passwordHash)
}

// SetQuota sets an account's storage limit in bytes (0: unlimited).
func (s *Store) SetQuota(ctx context.Context, login string, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("quota must not be negative")
	}
	return s.updateAccount(ctx, login, `UPDATE accounts SET quota_bytes = $1 WHERE name = $2`, bytes)
}

func (s *Store) updateAccount(ctx context.Context, login, query string, value any) error {
	name, domain, err := splitLogin(login)
	if err != nil {
		return err
	}
	return s.withTenant(ctx, domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			res, err := tx.Exec(query, value, name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("account %s: %w", name, ErrNotFound)
			}
			return nil
		})
	})
}

// Quota reports an account's limit and usage.
func (s *Store) Quota(ctx context.Context, a *Account) (Quota, error) {
	var q Quota
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		err := t.db.QueryRowContext(ctx, `SELECT quota_bytes, used_bytes,
			(SELECT COALESCE(SUM(messages), 0) FROM mailboxes WHERE account_id = $1)
			FROM accounts WHERE id = $1`, a.ID).Scan(&q.LimitBytes, &q.UsedBytes, &q.Messages)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("account %s: %w", a.Name, ErrNotFound)
		}
		return err
	})
	return q, err
}

// bumpModSeq takes the account's next MODSEQ. Every write transaction calls
// it first (see doc.go). It also adds delta to the used bytes and refuses
// with ErrOverQuota when that passes a limit.
func bumpModSeq(tx *txn, a *Account, delta int64) (uint64, error) {
	var modseq uint64
	var used, quota int64
	var err error
	if tx.sqlite {
		err = updateOneRow(tx, `UPDATE accounts SET modseq = modseq + 1, used_bytes = used_bytes + $1 WHERE id = $2`, delta, a.ID)
		if err == nil {
			err = tx.QueryRow(`SELECT modseq, used_bytes, quota_bytes FROM accounts WHERE id = $1`, a.ID).Scan(&modseq, &used, &quota)
		}
	} else {
		err = tx.QueryRow(`UPDATE accounts SET modseq = modseq + 1, used_bytes = used_bytes + $1
			WHERE id = $2 RETURNING modseq, used_bytes, quota_bytes`, delta, a.ID).Scan(&modseq, &used, &quota)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("account %s: %w", a.Name, ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	if delta > 0 && quota > 0 && used > quota {
		return 0, fmt.Errorf("%w: %s uses %d of %d bytes", ErrOverQuota, a.Name, used-delta, quota)
	}
	return modseq, nil
}
