package storage

import (
	"context"
	"fmt"
	"time"
)

// FsckReport counts what Fsck found wrong and rebuilt.
type FsckReport struct {
	Databases int
	Mailboxes int64 // mailboxes whose counters were wrong
	Accounts  int64 // accounts whose used bytes were wrong
	Blobs     int64 // blobs whose reference counts were wrong
}

// Fsck recomputes every counter from the rows it counts: mailbox message,
// unseen, deleted and size counters, account usage, blob reference counts.
// Counters are kept in the same transaction as every change, so a non-zero
// report means a bug or a hand edit.
func (s *Store) Fsck(ctx context.Context) (FsckReport, error) {
	var rep FsckReport
	domains, err := s.Domains(ctx)
	if err != nil {
		return rep, err
	}
	if _, ok := s.router.(*pgRouter); ok {
		domains = []string{"localhost"}
	}
	for _, d := range domains {
		err := s.withTenant(ctx, d, func(t *tenant) error {
			rep.Databases++
			return t.write(ctx, func(tx *txn) error {
				return fsckTx(tx, &rep)
			})
		})
		if err != nil {
			return rep, fmt.Errorf("fsck %s: %w", d, err)
		}
	}
	return rep, nil
}

func fsckTx(tx *txn, rep *FsckReport) error {
	fixes := []struct {
		count *int64
		query string
	}{
		{&rep.Mailboxes, `UPDATE mailboxes SET
			messages = (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id),
			unseen = (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND NOT m.seen),
			deleted = (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND m.deleted),
			size = (SELECT COALESCE(SUM(m.size), 0) FROM messages m WHERE m.mailbox_id = mailboxes.id)
			WHERE messages <> (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id)
			OR unseen <> (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND NOT m.seen)
			OR deleted <> (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mailboxes.id AND m.deleted)
			OR size <> (SELECT COALESCE(SUM(m.size), 0) FROM messages m WHERE m.mailbox_id = mailboxes.id)`},
		{&rep.Accounts, `UPDATE accounts SET
			used_bytes = (SELECT COALESCE(SUM(m.size), 0) FROM messages m WHERE m.account_id = accounts.id)
			WHERE used_bytes <> (SELECT COALESCE(SUM(m.size), 0) FROM messages m WHERE m.account_id = accounts.id)`},
		{&rep.Blobs, `UPDATE blobs SET
			refs = (SELECT COUNT(*) FROM messages m WHERE m.blob = blobs.hash)
			WHERE refs <> (SELECT COUNT(*) FROM messages m WHERE m.blob = blobs.hash)`},
	}
	for _, f := range fixes {
		res, err := tx.Exec(f.query)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		*f.count += n
	}
	_, err := tx.Exec(`UPDATE blobs SET unref_since = $1 WHERE refs = 0 AND unref_since IS NULL`, time.Now().Unix())
	return err
}
