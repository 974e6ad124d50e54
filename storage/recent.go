package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ClaimRecent gives the caller the \Recent flag of the messages up to upTo
// that no session claimed before (RFC 3501 section 2.3.2: a message is
// recent in exactly one session). It returns the first UID claimed; the
// caller's recent messages are those with from <= UID <= upTo.
func (s *Store) ClaimRecent(ctx context.Context, a *Account, mailboxID int64, upTo UID) (from UID, err error) {
	err = s.withTenant(ctx, a.Domain, func(t *tenant) error {
		// Most SELECTs find nothing new to claim: look first, on a reader,
		// before queueing a write.
		var first int64
		err := t.db.QueryRowContext(ctx, `SELECT first_recent FROM mailboxes WHERE id = $1 AND account_id = $2`, mailboxID, a.ID).Scan(&first)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("mailbox %d: %w", mailboxID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if first > int64(upTo) {
			from = UID(first)
			return nil
		}
		return t.write(ctx, func(tx *txn) error {
			var first int64
			err := tx.QueryRow(`SELECT first_recent FROM mailboxes WHERE id = $1 AND account_id = $2`, mailboxID, a.ID).Scan(&first)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("mailbox %d: %w", mailboxID, ErrNotFound)
			}
			if err != nil {
				return err
			}
			from = UID(first)
			if first > int64(upTo) {
				return nil
			}
			_, err = tx.Exec(`UPDATE mailboxes SET first_recent = $1 WHERE id = $2`, int64(upTo)+1, mailboxID)
			return err
		})
	})
	return from, err
}

// RecentCount counts the messages no session has claimed as recent yet,
// without claiming them (STATUS RECENT, EXAMINE).
func (s *Store) RecentCount(ctx context.Context, a *Account, mailboxID int64) (int64, error) {
	var n int64
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
			WHERE b.id = $1 AND b.account_id = $2 AND m.uid >= b.first_recent`, mailboxID, a.ID).Scan(&n)
	})
	return n, err
}
