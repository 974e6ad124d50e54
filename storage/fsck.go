package storage

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// FsckReport counts what Fsck found wrong and rebuilt, and the message
// contents it found gone, which it cannot rebuild.
type FsckReport struct {
	Databases int
	Mailboxes int64 // mailboxes whose counters were wrong
	Accounts  int64 // accounts whose used bytes were wrong
	Blobs     int64 // blobs whose reference counts were wrong
	Missing   int64 // blobs whose content is gone (a file or its chunks)
	// FirstMissing names the first of them: domain, hash and where the
	// content should be.
	FirstMissing string
}

// Fsck recomputes every counter from the rows it counts: mailbox message,
// unseen, deleted and size counters, account usage, blob reference counts.
// Counters are kept in the same transaction as every change, so a non-zero
// report means a bug or a hand edit. It then checks that every blob's
// content is where its row says: a domain restored without its blobs
// directory, say, loses the messages kept in files.
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
			if err := t.write(ctx, func(tx *txn) error {
				return fsckTx(tx, &rep)
			}); err != nil {
				return err
			}
			return s.checkContent(ctx, t, d, &rep)
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

// checkContent counts the blobs whose content is not where their row says.
func (s *Store) checkContent(ctx context.Context, t *tenant, domain string, rep *FsckReport) error {
	missing := func(hash []byte, where string) {
		rep.Missing++
		if rep.FirstMissing == "" {
			rep.FirstMissing = fmt.Sprintf("%s blob %s (%s)", domain, hex.EncodeToString(hash), where)
		}
	}
	inFile := s.blobs.inFileRows()
	rows, err := t.db.QueryContext(ctx, `SELECT hash FROM blobs b WHERE NOT (`+inFile+`)
		AND NOT EXISTS (SELECT 1 FROM blob_chunks c WHERE c.blob_id = b.id)`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var hash []byte
		if err := rows.Scan(&hash); err != nil {
			rows.Close()
			return err
		}
		missing(hash, "no chunks in the database")
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = t.db.QueryContext(ctx, `SELECT hash, compression FROM blobs WHERE `+inFile)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var hash []byte
		var comp int
		if err := rows.Scan(&hash, &comp); err != nil {
			return err
		}
		path := blobPath(t.blobDir, hash, comp)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			missing(hash, "no file "+path)
		} else if err != nil {
			return err
		}
	}
	return rows.Err()
}
