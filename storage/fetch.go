package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"

	"letterbox/message"
)

// Want says what Messages loads beside the narrow row.
type Want int

const (
	WantParsed Want = 1 << iota // Message.Parsed: envelope, body structure, part offsets
	WantHeader                  // Message.Header: the top-level header block
)

// Messages reads the messages of set (nil: all) in one of a's mailboxes,
// in UID order.
func (s *Store) Messages(ctx context.Context, a *Account, mailboxID int64, set UIDSet, want Want) ([]Message, error) {
	var out []Message
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		tx, err := t.snapshot(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := ownsMailbox(tx, ctx, a, mailboxID); err != nil {
			return err
		}
		rows, err := selectRows(tx, ctx, a, mailboxID, set, false)
		if err != nil {
			return err
		}
		out = make([]Message, len(rows))
		for i, r := range rows {
			out[i] = r.Message
		}
		if want == 0 || len(out) == 0 {
			return nil
		}
		return loadBlobInfo(ctx, tx, a, mailboxID, out, want)
	})
	return out, err
}

// loadBlobInfo fills Parsed and/or Header from the blobs rows.
func loadBlobInfo(ctx context.Context, q querier, a *Account, mailboxID int64, msgs []Message, want Want) error {
	cols := "NULL"
	if want&WantParsed != 0 {
		cols = "b.parsed"
	}
	if want&WantHeader != 0 {
		cols += ", b.header"
	} else {
		cols += ", NULL"
	}
	rows, err := q.QueryContext(ctx, `SELECT m.uid, `+cols+` FROM messages m JOIN blobs b ON b.hash = m.blob
		WHERE m.mailbox_id = $1 AND m.account_id = $2 AND m.uid BETWEEN $3 AND $4`,
		mailboxID, a.ID, int64(msgs[0].UID), int64(msgs[len(msgs)-1].UID))
	if err != nil {
		return err
	}
	defer rows.Close()
	index := make(map[UID]int, len(msgs))
	for i, m := range msgs {
		index[m.UID] = i
	}
	for rows.Next() {
		var uid int64
		var parsed, header []byte
		if err := rows.Scan(&uid, &parsed, &header); err != nil {
			return err
		}
		i, ok := index[UID(uid)]
		if !ok {
			continue
		}
		if parsed != nil {
			p, err := message.Unmarshal(parsed)
			if err != nil {
				return fmt.Errorf("message %d: stored structure: %w", uid, err)
			}
			msgs[i].Parsed = p
		}
		msgs[i].Header = header
	}
	return rows.Err()
}

// Content is a stored message's bytes, for ranged reads. Close it.
type Content struct {
	r    blobReader
	size int64
	t    *tenant
	s    *Store
}

// Size is the message size in bytes.
func (c *Content) Size() int64 { return c.size }

// ReadAt reads bytes of the message.
func (c *Content) ReadAt(p []byte, off int64) (int, error) { return c.r.ReadAt(p, off) }

// Reader reads the whole message from the start.
func (c *Content) Reader() io.Reader { return io.NewSectionReader(c.r, 0, c.size) }

// Section reads length bytes from off (clipped to the message).
func (c *Content) Section(off, length int64) io.Reader {
	off = min(max(off, 0), c.size)
	return io.NewSectionReader(c.r, off, min(length, c.size-off))
}

// Close releases the content and the database it came from.
func (c *Content) Close() error {
	err := c.r.Close()
	c.s.router.release(c.t)
	return err
}

// Open opens one message's content.
func (s *Store) Open(ctx context.Context, a *Account, mailboxID int64, uid UID) (*Content, error) {
	t, err := s.router.acquire(ctx, a.Domain)
	if err != nil {
		return nil, err
	}
	var loc blobLoc
	err = t.db.QueryRowContext(ctx, `SELECT b.id, b.hash, b.size, b.compression, b.in_file FROM messages m JOIN blobs b ON b.hash = m.blob
		WHERE m.mailbox_id = $1 AND m.account_id = $2 AND m.uid = $3`, mailboxID, a.ID, int64(uid)).
		Scan(&loc.id, &loc.hash, &loc.size, &loc.compression, &loc.inFile)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("message %d: %w", uid, ErrNotFound)
	}
	if err != nil {
		s.router.release(t)
		return nil, err
	}
	r, err := s.blobs.open(ctx, t, loc)
	if err != nil {
		s.router.release(t)
		return nil, err
	}
	return &Content{r: r, size: loc.size, t: t, s: s}, nil
}

// Changes reports what happened in one of a's mailboxes after MODSEQ since:
// messages added or changed, and UIDs expunged (CONDSTORE/QRESYNC, RFC 7162).
func (s *Store) Changes(ctx context.Context, a *Account, mailboxID int64, since uint64) (*Changes, error) {
	ch := &Changes{}
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		tx, err := t.snapshot(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var floor uint64
		err = tx.QueryRowContext(ctx, `SELECT highest_modseq, vanished_floor FROM mailboxes WHERE id = $1 AND account_id = $2`,
			mailboxID, a.ID).Scan(&ch.HighestModSeq, &floor)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("mailbox %d: %w", mailboxID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		ch.Truncated = since < floor
		if since >= ch.HighestModSeq {
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT uid FROM messages WHERE mailbox_id = $1 AND account_id = $2 AND modseq > $3`,
			mailboxID, a.ID, since)
		if err != nil {
			return err
		}
		var uids []UID
		for rows.Next() {
			var uid int64
			if err := rows.Scan(&uid); err != nil {
				rows.Close()
				return err
			}
			uids = append(uids, UID(uid))
		}
		rows.Close()
		if len(uids) > 0 {
			changed, err := selectRows(tx, ctx, a, mailboxID, UIDSetOf(uids...), false)
			if err != nil {
				return err
			}
			for _, r := range changed {
				ch.Changed = append(ch.Changed, r.Message)
			}
		}
		vrows, err := tx.QueryContext(ctx, `SELECT uid FROM vanished WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid`, mailboxID, since)
		if err != nil {
			return err
		}
		defer vrows.Close()
		for vrows.Next() {
			var uid int64
			if err := vrows.Scan(&uid); err != nil {
				return err
			}
			ch.Vanished = append(ch.Vanished, UID(uid))
		}
		return vrows.Err()
	})
	return ch, err
}

// UIDLs lists INBOX for POP3: UID, size and a UIDL stable for the life of
// the message. An imported UIDL is kept; otherwise the UIDL is built from
// UIDVALIDITY and UID, which never change for a message.
func (s *Store) UIDLs(ctx context.Context, a *Account) ([]UIDL, error) {
	var out []UIDL
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		var id int64
		var uidvalidity uint32
		err := t.db.QueryRowContext(ctx, `SELECT id, uidvalidity FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`, a.ID).Scan(&id, &uidvalidity)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("INBOX: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		rows, err := t.db.QueryContext(ctx, `SELECT uid, size, uidl FROM messages WHERE mailbox_id = $1 AND account_id = $2 ORDER BY uid`, id, a.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u UIDL
			var uid int64
			var uidl sql.NullString
			if err := rows.Scan(&uid, &u.Size, &uidl); err != nil {
				return err
			}
			u.UID = UID(uid)
			u.UIDL = uidl.String
			if u.UIDL == "" {
				u.UIDL = fmt.Sprintf("%08x%08x", uidvalidity, uid)
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out, err
}
