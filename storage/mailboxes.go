package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

const mailboxColumns = `id, name, uidvalidity, uidnext, highest_modseq, special_use,
	messages, unseen, deleted, size, vanished_floor`

func scanMailbox(row interface{ Scan(...any) error }) (*Mailbox, error) {
	var m Mailbox
	var uidnext int64
	err := row.Scan(&m.ID, &m.Name, &m.UIDValidity, &uidnext, &m.HighestModSeq, &m.SpecialUse,
		&m.Messages, &m.Unseen, &m.Deleted, &m.Size, &m.VanishedFloor)
	m.UIDNext = UID(uidnext)
	return &m, err
}

func validSpecialUse(use string) error {
	switch use {
	case "", SpecialAll, SpecialArchive, SpecialDrafts, SpecialFlagged, SpecialJunk, SpecialSent, SpecialTrash:
		return nil
	}
	return fmt.Errorf("%w: special-use attribute %q", ErrInvalidName, use)
}

// createMailboxTx creates one mailbox with the account's next UIDVALIDITY.
func createMailboxTx(tx *txn, a *Account, name, specialUse string) (*Mailbox, error) {
	modseq, err := bumpModSeq(tx, a, 0)
	if err != nil {
		return nil, err
	}
	var uidvalidity uint32
	if err := tx.QueryRow(`UPDATE accounts SET uidvalidity = uidvalidity + 1 WHERE id = $1 RETURNING uidvalidity`, a.ID).Scan(&uidvalidity); err != nil {
		return nil, err
	}
	m, err := scanMailbox(tx.QueryRow(`INSERT INTO mailboxes (account_id, name, uidvalidity, highest_modseq, special_use)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+mailboxColumns, a.ID, name, uidvalidity, modseq, specialUse))
	if isUnique(err) {
		return nil, fmt.Errorf("mailbox %q: %w", name, ErrExists)
	}
	return m, err
}

// CreateMailbox creates a mailbox and any missing parents. specialUse is
// empty or one of the RFC 6154 attributes.
func (s *Store) CreateMailbox(ctx context.Context, a *Account, name, specialUse string) (*Mailbox, error) {
	name, err := CleanMailboxName(name)
	if err != nil {
		return nil, err
	}
	if err := validSpecialUse(specialUse); err != nil {
		return nil, err
	}
	var m *Mailbox
	err = s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			for _, p := range parents(name) {
				var n int
				if err := tx.QueryRow(`SELECT COUNT(*) FROM mailboxes WHERE account_id = $1 AND name = $2`, a.ID, p).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					if _, err := createMailboxTx(tx, a, p, ""); err != nil {
						return err
					}
				}
			}
			m, err = createMailboxTx(tx, a, name, specialUse)
			return err
		})
	})
	return m, err
}

// Mailbox finds a mailbox by name (INBOX in any case).
func (s *Store) Mailbox(ctx context.Context, a *Account, name string) (*Mailbox, error) {
	clean, err := CleanMailboxName(name)
	if err != nil {
		return nil, err
	}
	return s.mailbox(ctx, a, `name = $2`, clean)
}

// MailboxByID finds one of a's mailboxes by id, with fresh counters.
func (s *Store) MailboxByID(ctx context.Context, a *Account, id int64) (*Mailbox, error) {
	return s.mailbox(ctx, a, `id = $2`, id)
}

func (s *Store) mailbox(ctx context.Context, a *Account, cond string, arg any) (*Mailbox, error) {
	var m *Mailbox
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		var err error
		m, err = scanMailbox(t.db.QueryRowContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes WHERE account_id = $1 AND `+cond, a.ID, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("mailbox %v: %w", arg, ErrNotFound)
		}
		return err
	})
	return m, err
}

// ListMailboxes returns a's mailboxes whose names match the IMAP pattern
// ("*" for all), sorted by name, with Subscribed and HasChildren set.
func (s *Store) ListMailboxes(ctx context.Context, a *Account, pattern string) ([]*Mailbox, error) {
	var all []*Mailbox
	subs := map[string]bool{}
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		rows, err := t.db.QueryContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes WHERE account_id = $1 ORDER BY name`, a.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMailbox(rows)
			if err != nil {
				return err
			}
			all = append(all, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		names, err := subscriptions(ctx, t, a)
		for _, n := range names {
			subs[n] = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	var out []*Mailbox
	for i, m := range all {
		m.Subscribed = subs[m.Name]
		m.HasChildren = i+1 < len(all) && strings.HasPrefix(all[i+1].Name, m.Name+Separator)
		if MatchPattern(pattern, m.Name) {
			out = append(out, m)
		}
	}
	return out, nil
}

// DeleteMailbox deletes a mailbox and its messages. INBOX cannot be deleted,
// and neither can a mailbox with children (as Dovecot: delete them first).
// Subscriptions are left alone (RFC 9051 section 6.3.4).
func (s *Store) DeleteMailbox(ctx context.Context, a *Account, name string) error {
	name, err := CleanMailboxName(name)
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return ErrInboxProtect
	}
	var id int64
	err = s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			var size int64
			err := tx.QueryRow(`SELECT id, size FROM mailboxes WHERE account_id = $1 AND name = $2`, a.ID, name).Scan(&id, &size)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("mailbox %q: %w", name, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if _, err := bumpModSeq(tx, a, -size); err != nil {
				return err
			}
			names, err := mailboxNames(tx, a)
			if err != nil {
				return err
			}
			children := len(withPrefix(names, name+Separator))
			if children > 0 {
				return fmt.Errorf("mailbox %q: %w", name, ErrNotEmpty)
			}
			if err := releaseBlobs(tx, `SELECT blob FROM messages WHERE mailbox_id = $1`, id); err != nil {
				return err
			}
			_, err = tx.Exec(`DELETE FROM mailboxes WHERE id = $1`, id)
			return err
		})
	})
	if err == nil {
		s.notify(a.Domain, id)
	}
	return err
}

// mailboxNames maps each of a's mailbox names to its id. Hierarchy is
// worked out in Go: LIKE and collations differ between the dialects.
func mailboxNames(tx *txn, a *Account) (map[string]int64, error) {
	rows, err := tx.Query(`SELECT id, name FROM mailboxes WHERE account_id = $1`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[name] = id
	}
	return out, rows.Err()
}

func withPrefix(names map[string]int64, prefix string) map[string]int64 {
	out := map[string]int64{}
	for n, id := range names {
		if strings.HasPrefix(n, prefix) {
			out[n] = id
		}
	}
	return out
}

// RenameMailbox renames a mailbox with all its children. Renaming INBOX
// moves its messages to a new mailbox and leaves INBOX empty, its children
// in place (RFC 9051 section 6.3.6).
func (s *Store) RenameMailbox(ctx context.Context, a *Account, from, to string) error {
	from, err := CleanMailboxName(from)
	if err != nil {
		return err
	}
	to, err = CleanMailboxName(to)
	if err != nil {
		return err
	}
	if from == to || strings.HasPrefix(to, from+Separator) {
		return fmt.Errorf("%w: cannot rename %q to %q", ErrInvalidName, from, to)
	}
	if to == "INBOX" {
		return fmt.Errorf("mailbox INBOX: %w", ErrExists)
	}
	var touched []int64
	err = s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			touched = touched[:0]
			names, err := mailboxNames(tx, a)
			if err != nil {
				return err
			}
			if _, taken := names[to]; taken || len(withPrefix(names, to+Separator)) > 0 {
				return fmt.Errorf("mailbox %q: %w", to, ErrExists)
			}
			if from == "INBOX" {
				return renameInbox(tx, a, to, &touched)
			}
			if _, err := bumpModSeq(tx, a, 0); err != nil {
				return err
			}
			renames := map[int64]string{}
			if id, ok := names[from]; ok {
				renames[id] = to
			}
			for name, id := range withPrefix(names, from+Separator) {
				renames[id] = to + name[len(from):]
			}
			if len(renames) == 0 {
				return fmt.Errorf("mailbox %q: %w", from, ErrNotFound)
			}
			for id, name := range renames {
				if len(name) > maxMailboxName {
					return fmt.Errorf("%w: %q would be longer than %d bytes", ErrInvalidName, name, maxMailboxName)
				}
				if _, err := tx.Exec(`UPDATE mailboxes SET name = $1 WHERE id = $2`, name, id); err != nil {
					return err
				}
				touched = append(touched, id)
			}
			for _, p := range parents(to) {
				var n int
				if err := tx.QueryRow(`SELECT COUNT(*) FROM mailboxes WHERE account_id = $1 AND name = $2`, a.ID, p).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					if _, err := createMailboxTx(tx, a, p, ""); err != nil {
						return err
					}
				}
			}
			return nil
		})
	})
	if err == nil {
		s.notify(a.Domain, touched...)
	}
	return err
}

// renameInbox moves every INBOX message into a new mailbox named to.
func renameInbox(tx *txn, a *Account, to string, touched *[]int64) error {
	for _, p := range parents(to) {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM mailboxes WHERE account_id = $1 AND name = $2`, a.ID, p).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := createMailboxTx(tx, a, p, ""); err != nil {
				return err
			}
		}
	}
	dst, err := createMailboxTx(tx, a, to, "")
	if err != nil {
		return err
	}
	var inbox int64
	if err := tx.QueryRow(`SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`, a.ID).Scan(&inbox); err != nil {
		return err
	}
	if _, err := copyTx(tx, a, inbox, nil, dst.ID, true); err != nil {
		return err
	}
	*touched = append(*touched, inbox, dst.ID)
	return nil
}

// SetSpecialUse sets or clears ("") a mailbox's special-use attribute.
func (s *Store) SetSpecialUse(ctx context.Context, a *Account, name, use string) error {
	name, err := CleanMailboxName(name)
	if err != nil {
		return err
	}
	if err := validSpecialUse(use); err != nil {
		return err
	}
	return s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			res, err := tx.Exec(`UPDATE mailboxes SET special_use = $1 WHERE account_id = $2 AND name = $3`, use, a.ID, name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("mailbox %q: %w", name, ErrNotFound)
			}
			return nil
		})
	})
}

// Subscribe adds a name to a's subscriptions; the mailbox need not exist.
func (s *Store) Subscribe(ctx context.Context, a *Account, name string) error {
	name, err := CleanMailboxName(name)
	if err != nil {
		return err
	}
	return s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			if _, err := bumpModSeq(tx, a, 0); err != nil {
				return err
			}
			_, err := tx.Exec(`INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, a.ID, name)
			return err
		})
	})
}

// Unsubscribe removes a name from a's subscriptions.
func (s *Store) Unsubscribe(ctx context.Context, a *Account, name string) error {
	name, err := CleanMailboxName(name)
	if err != nil {
		return err
	}
	return s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			res, err := tx.Exec(`DELETE FROM subscriptions WHERE account_id = $1 AND name = $2`, a.ID, name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("subscription %q: %w", name, ErrNotFound)
			}
			return nil
		})
	})
}

// Subscriptions lists a's subscribed names, sorted.
func (s *Store) Subscriptions(ctx context.Context, a *Account) ([]string, error) {
	var out []string
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		var err error
		out, err = subscriptions(ctx, t, a)
		return err
	})
	return out, err
}

func subscriptions(ctx context.Context, t *tenant, a *Account) ([]string, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
