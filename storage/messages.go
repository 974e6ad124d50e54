package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

const maxUID = 1<<32 - 1

// Append stores one message in one of a's mailboxes.
func (s *Store) Append(ctx context.Context, a *Account, mailboxID int64, r io.Reader, opts AppendOptions) (AppendResult, error) {
	in, err := s.Receive(r)
	if err != nil {
		return AppendResult{}, err
	}
	defer in.Close()
	results := s.Deliver(ctx, in, []Target{{Account: a, MailboxID: mailboxID, Options: opts}})
	return results[0].AppendResult, results[0].Err
}

// Target is one place a message is delivered to.
type Target struct {
	Account   *Account
	MailboxID int64
	Options   AppendOptions
}

// DeliveryResult is the outcome for one Target.
type DeliveryResult struct {
	AppendResult
	Err error
}

// Deliver stores one received message in every target. The content is
// written once per database (content-addressed), and each target succeeds
// or fails on its own: one full mailbox does not stop the others. A target
// reports success only once its row is committed durably.
func (s *Store) Deliver(ctx context.Context, in *Incoming, targets []Target) []DeliveryResult {
	results := make([]DeliveryResult, len(targets))
	byDomain := map[string][]int{}
	var order []string
	for i, tg := range targets {
		d := tg.Account.Domain
		if byDomain[d] == nil {
			order = append(order, d)
		}
		byDomain[d] = append(byDomain[d], i)
	}
	for _, domain := range order {
		idx := byDomain[domain]
		err := s.withTenant(ctx, domain, func(t *tenant) error {
			if err := s.blobs.stage(t, in); err != nil {
				return err
			}
			op := &appendOp{s: s, t: t, in: in, targets: targets, idx: idx, results: results}
			return t.w.writeAppend(ctx, func(tx *txn) error {
				ok := 0
				for _, i := range idx {
					var res AppendResult
					insert := func(tx *txn) error {
						var err error
						res, err = s.insertMessageTx(tx, t, targets[i], in)
						return err
					}
					var err error
					if len(idx) == 1 {
						err = insert(tx) // alone: its failure fails the write
					} else {
						err = inSavepoint(tx, "target", insert)
					}
					if isRetryable(err) {
						return err
					}
					results[i] = DeliveryResult{res, err}
					if err == nil {
						ok++
					}
				}
				if ok == 0 {
					return errNothingStored
				}
				return nil
			}, op)
		})
		if errors.Is(err, errNothingStored) {
			err = nil
		}
		for _, i := range idx {
			if err != nil {
				results[i] = DeliveryResult{Err: err}
			} else if results[i].Err == nil {
				s.notify(domain, targets[i].MailboxID)
			}
		}
	}
	return results
}

// errNothingStored rolls back a delivery transaction whose every target
// failed; the targets carry their own errors.
var errNothingStored = errors.New("nothing stored")

func (s *Store) insertMessageTx(tx *txn, t *tenant, tg Target, in *Incoming) (AppendResult, error) {
	a, o := tg.Account, tg.Options
	flags := ParseFlags(o.Flags)
	date := o.InternalDate
	if date.IsZero() {
		date = time.Now()
	}
	modseq, err := bumpModSeq(tx, a, in.size)
	if err != nil {
		return AppendResult{}, err
	}
	var uid int64
	var res AppendResult
	if tx.sqlite {
		err = updateOneRow(tx, `UPDATE mailboxes SET uidnext = uidnext + 1, highest_modseq = $1, messages = messages + 1,
			unseen = unseen + $2, deleted = deleted + $3, size = size + $4 WHERE id = $5 AND account_id = $6`,
			modseq, b2i(!flags.Seen), b2i(flags.Deleted), in.size, tg.MailboxID, a.ID)
		if err == nil {
			err = tx.QueryRow(`SELECT uidnext - 1, uidvalidity FROM mailboxes WHERE id = $1`, tg.MailboxID).Scan(&uid, &res.UIDValidity)
		}
	} else {
		err = tx.QueryRow(`UPDATE mailboxes SET uidnext = uidnext + 1, highest_modseq = $1, messages = messages + 1,
			unseen = unseen + $2, deleted = deleted + $3, size = size + $4
			WHERE id = $5 AND account_id = $6 RETURNING uidnext - 1, uidvalidity`,
			modseq, b2i(!flags.Seen), b2i(flags.Deleted), in.size, tg.MailboxID, a.ID).Scan(&uid, &res.UIDValidity)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("mailbox %d: %w", tg.MailboxID, ErrNotFound)
	}
	if err != nil {
		return res, err
	}
	if uid > maxUID {
		return res, fmt.Errorf("mailbox %d has used every UID of its UIDVALIDITY", tg.MailboxID)
	}
	if err := s.putBlobTx(tx, t, in, 1); err != nil {
		return res, err
	}
	var uidl any
	if o.UIDL != "" {
		uidl = o.UIDL
	}
	_, tz := date.Zone()
	if _, err := tx.Exec(`INSERT INTO messages (mailbox_id, uid, account_id, modseq, internal_date, internal_tz,
		save_date, size, blob, seen, answered, flagged, deleted, draft, uidl)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		tg.MailboxID, uid, a.ID, modseq, date.Unix(), tz/60, time.Now().Unix(), in.size, in.hash,
		flags.Seen, flags.Answered, flags.Flagged, flags.Deleted, flags.Draft, uidl); err != nil {
		return res, fmt.Errorf("insert message: %w", err)
	}
	if err := insertKeywords(tx, tg.MailboxID, uid, flags.Keywords); err != nil {
		return res, err
	}
	res.UID, res.ModSeq = UID(uid), modseq
	return res, nil
}

// appendOp is a delivery to one database described as data, beside its
// write function, so that the SQLite group writer can store the deliveries
// queued together with a few statements per table (insertBatchTx).
type appendOp struct {
	s       *Store
	t       *tenant
	in      *Incoming
	targets []Target
	idx     []int            // the targets of this database
	results []DeliveryResult // Deliver's, indexed like targets
}

// errBatchFallback: a target of a batch would fail; the writer then runs
// the deliveries one by one.
var errBatchFallback = errors.New("deliveries need the one-by-one path")

// insertBatchTx stores the deliveries of ops as insertMessageTx would one
// target after the other, in order: the same MODSEQs, UIDs, counters, blob
// references and rows, but with one UPDATE (and SELECT) per account and per
// mailbox instead of one per target. Rows are inserted one by one with
// prepared statements: a multi-row INSERT runs in a statement journal (a
// copy of every page it changes), and one by one halves the writer's time
// in this function (43 -> 19 µs of CPU per 10 KB message with 8 writers).
// It only handles the case where every target
// succeeds; anything else returns an error (errBatchFallback when nothing
// is wrong but the batch) and leaves the group to be run again write by
// write. Only the SQLite group writer runs it.
func insertBatchTx(tx *txn, ops []*appendOp) error {
	s, t := ops[0].s, ops[0].t
	now := time.Now()
	type item struct {
		op     *appendOp
		ti     int // index into op.targets and op.results
		flags  Flags
		modseq uint64
		uid    int64
	}
	var items []item
	for _, op := range ops {
		for _, ti := range op.idx {
			items = append(items, item{op: op, ti: ti, flags: ParseFlags(op.targets[ti].Options.Flags)})
		}
	}

	// One MODSEQ per target from its account's counter, in order; the
	// account's usage grows by all its targets' sizes at once. If the sum
	// passes the quota, some target fails: that is the one-by-one path.
	type account struct {
		id, n, bytes int64
		next         uint64
	}
	var accounts []*account
	byAccount := map[int64]*account{}
	for _, it := range items {
		id := it.op.targets[it.ti].Account.ID
		a := byAccount[id]
		if a == nil {
			a = &account{id: id}
			byAccount[id] = a
			accounts = append(accounts, a)
		}
		a.n++
		a.bytes += it.op.in.size
	}
	for _, a := range accounts {
		var modseq uint64
		var used, quota int64
		err := updateOneRow(tx, `UPDATE accounts SET modseq = modseq + $1, used_bytes = used_bytes + $2 WHERE id = $3`, a.n, a.bytes, a.id)
		if err == nil {
			err = tx.QueryRow(`SELECT modseq, used_bytes, quota_bytes FROM accounts WHERE id = $1`, a.id).Scan(&modseq, &used, &quota)
		}
		if errors.Is(err, sql.ErrNoRows) || err == nil && a.bytes > 0 && quota > 0 && used > quota {
			return errBatchFallback
		}
		if err != nil {
			return err
		}
		a.next = modseq - uint64(a.n) + 1
	}
	for i := range items {
		a := byAccount[items[i].op.targets[items[i].ti].Account.ID]
		items[i].modseq = a.next
		a.next++
	}

	// UIDs in order from each mailbox's UIDNEXT, counters by the sums.
	type mailboxKey struct{ id, account int64 }
	type mailbox struct {
		key                      mailboxKey
		n, unseen, deleted, size int64
		highest                  uint64
		next                     int64
		uidValidity              uint32
	}
	var mailboxes []*mailbox
	byMailbox := map[mailboxKey]*mailbox{}
	for _, it := range items {
		tg := it.op.targets[it.ti]
		k := mailboxKey{tg.MailboxID, tg.Account.ID}
		m := byMailbox[k]
		if m == nil {
			m = &mailbox{key: k}
			byMailbox[k] = m
			mailboxes = append(mailboxes, m)
		}
		m.n++
		m.unseen += int64(b2i(!it.flags.Seen))
		m.deleted += int64(b2i(it.flags.Deleted))
		m.size += it.op.in.size
		m.highest = max(m.highest, it.modseq)
	}
	for _, m := range mailboxes {
		err := updateOneRow(tx, `UPDATE mailboxes SET uidnext = uidnext + $1, highest_modseq = $2, messages = messages + $1,
			unseen = unseen + $3, deleted = deleted + $4, size = size + $5 WHERE id = $6 AND account_id = $7`,
			m.n, m.highest, m.unseen, m.deleted, m.size, m.key.id, m.key.account)
		if err == nil {
			err = tx.QueryRow(`SELECT uidnext - $1, uidvalidity FROM mailboxes WHERE id = $2`, m.n, m.key.id).Scan(&m.next, &m.uidValidity)
		}
		if errors.Is(err, sql.ErrNoRows) || err == nil && m.next+m.n-1 > maxUID {
			return errBatchFallback
		}
		if err != nil {
			return err
		}
	}
	for i := range items {
		tg := items[i].op.targets[items[i].ti]
		m := byMailbox[mailboxKey{tg.MailboxID, tg.Account.ID}]
		items[i].uid = m.next
		m.next++
	}

	if err := s.putBlobsTx(tx, t, ops); err != nil {
		return err
	}

	for _, it := range items {
		tg, in := it.op.targets[it.ti], it.op.in
		date := tg.Options.InternalDate
		if date.IsZero() {
			date = now
		}
		_, tz := date.Zone()
		var uidl any
		if tg.Options.UIDL != "" {
			uidl = tg.Options.UIDL
		}
		if _, err := tx.Exec(`INSERT INTO messages (mailbox_id, uid, account_id, modseq, internal_date, internal_tz,
			save_date, size, blob, seen, answered, flagged, deleted, draft, uidl)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			tg.MailboxID, it.uid, tg.Account.ID, it.modseq, date.Unix(), tz/60, now.Unix(), in.size, in.hash,
			it.flags.Seen, it.flags.Answered, it.flags.Flagged, it.flags.Deleted, it.flags.Draft, uidl); err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
	}
	for _, it := range items {
		if err := insertKeywords(tx, it.op.targets[it.ti].MailboxID, it.uid, it.flags.Keywords); err != nil {
			return err
		}
	}
	for _, it := range items {
		tg := it.op.targets[it.ti]
		res := AppendResult{UIDValidity: byMailbox[mailboxKey{tg.MailboxID, tg.Account.ID}].uidValidity, UID: UID(it.uid), ModSeq: it.modseq}
		it.op.results[it.ti] = DeliveryResult{AppendResult: res}
	}
	return nil
}

func insertKeywords(tx *txn, mailboxID, uid int64, keywords []string) error {
	for _, k := range keywords {
		if _, err := tx.Exec(`INSERT INTO keywords (mailbox_id, uid, keyword) VALUES ($1, $2, $3)`, mailboxID, uid, k); err != nil {
			return fmt.Errorf("insert keyword: %w", err)
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// row is a message row as the write paths need it.
type row struct {
	Message
	internalTZ int
}

// selectRows reads the rows of a mailbox in set (nil: all), by UID, with
// their keywords. onlyDeleted limits them to those flagged \Deleted.
func selectRows(q querier, ctx context.Context, a *Account, mailboxID int64, set UIDSet, onlyDeleted bool) ([]row, error) {
	lo, hi := set.bounds()
	query := `SELECT uid, modseq, internal_date, internal_tz, save_date, size, blob, seen, answered, flagged, deleted, draft, uidl
		FROM messages WHERE mailbox_id = $1 AND account_id = $2 AND uid BETWEEN $3 AND $4`
	if onlyDeleted {
		query += ` AND deleted`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY uid`, mailboxID, a.ID, int64(lo), int64(hi))
	if err != nil {
		return nil, err
	}
	var out []row
	index := map[UID]int{}
	for rows.Next() {
		var r row
		var uid, idate, sdate int64
		var uidl sql.NullString
		if err := rows.Scan(&uid, &r.ModSeq, &idate, &r.internalTZ, &sdate, &r.Size, &r.Blob,
			&r.Flags.Seen, &r.Flags.Answered, &r.Flags.Flagged, &r.Flags.Deleted, &r.Flags.Draft, &uidl); err != nil {
			rows.Close()
			return nil, err
		}
		r.UID = UID(uid)
		if !set.Contains(r.UID) {
			continue
		}
		r.InternalDate = time.Unix(idate, 0).In(zone(r.internalTZ))
		r.SaveDate = time.Unix(sdate, 0)
		r.UIDL = uidl.String
		index[r.UID] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	krows, err := q.QueryContext(ctx, `SELECT uid, keyword FROM keywords WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3`,
		mailboxID, int64(out[0].UID), int64(out[len(out)-1].UID))
	if err != nil {
		return nil, err
	}
	defer krows.Close()
	for krows.Next() {
		var uid int64
		var k string
		if err := krows.Scan(&uid, &k); err != nil {
			return nil, err
		}
		if i, ok := index[UID(uid)]; ok {
			out[i].Flags.Keywords = append(out[i].Flags.Keywords, k)
		}
	}
	for i := range out {
		sort.Strings(out[i].Flags.Keywords)
	}
	return out, krows.Err()
}

// querier is what both *sql.DB and *txn offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ownsMailbox checks that mailboxID is one of a's mailboxes.
func ownsMailbox(q querier, ctx context.Context, a *Account, mailboxID int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM mailboxes WHERE id = $1 AND account_id = $2`, mailboxID, a.ID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("mailbox %d: %w", mailboxID, ErrNotFound)
	}
	return nil
}

// Copy copies the messages of set from one of a's mailboxes to another,
// keeping flags and internal dates (COPY, RFC 9051 section 6.4.7).
func (s *Store) Copy(ctx context.Context, a *Account, from int64, set UIDSet, to int64) (CopyResult, error) {
	return s.copyOrMove(ctx, a, from, set, to, false)
}

// Move moves the messages of set atomically (MOVE, RFC 6851): the source
// sees them expunged.
func (s *Store) Move(ctx context.Context, a *Account, from int64, set UIDSet, to int64) (CopyResult, error) {
	return s.copyOrMove(ctx, a, from, set, to, true)
}

func (s *Store) copyOrMove(ctx context.Context, a *Account, from int64, set UIDSet, to int64, move bool) (CopyResult, error) {
	var res CopyResult
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			var err error
			res, err = copyTx(tx, a, from, set, to, move)
			return err
		})
	})
	if err == nil && len(res.Dest) > 0 {
		s.notify(a.Domain, from, to)
	}
	return res, err
}

func copyTx(tx *txn, a *Account, from int64, set UIDSet, to int64, move bool) (CopyResult, error) {
	var res CopyResult
	ctx := context.Background()
	rows, err := selectRows(tx, ctx, a, from, set, false)
	if err != nil {
		return res, err
	}
	if err := ownsMailbox(tx, ctx, a, from); err != nil {
		return res, err
	}
	var size, unseen, deleted int64
	for _, r := range rows {
		size += r.Size
		unseen += int64(b2i(!r.Flags.Seen))
		deleted += int64(b2i(r.Flags.Deleted))
	}
	growth := size
	if move {
		growth = 0
	}
	modseq, err := bumpModSeq(tx, a, growth)
	if err != nil {
		return res, err
	}
	n := int64(len(rows))
	var first int64
	err = tx.QueryRow(`UPDATE mailboxes SET uidnext = uidnext + $1, highest_modseq = $2, messages = messages + $1,
		unseen = unseen + $3, deleted = deleted + $4, size = size + $5
		WHERE id = $6 AND account_id = $7 RETURNING uidnext - $1, uidvalidity`,
		n, modseq, unseen, deleted, size, to, a.ID).Scan(&first, &res.UIDValidity)
	if errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("mailbox %d: %w", to, ErrNotFound)
	}
	if err != nil {
		return res, err
	}
	if first+n-1 > maxUID {
		return res, fmt.Errorf("mailbox %d has used every UID of its UIDVALIDITY", to)
	}
	refs := map[string]int64{}
	now := time.Now().Unix()
	for i, r := range rows {
		uid := first + int64(i)
		var uidl any
		if move && r.UIDL != "" {
			uidl = r.UIDL // a moved message keeps its POP3 identity; a copy is a new message
		}
		if _, err := tx.Exec(`INSERT INTO messages (mailbox_id, uid, account_id, modseq, internal_date, internal_tz,
			save_date, size, blob, seen, answered, flagged, deleted, draft, uidl)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			to, uid, a.ID, modseq, r.InternalDate.Unix(), r.internalTZ, now, r.Size, r.Blob,
			r.Flags.Seen, r.Flags.Answered, r.Flags.Flagged, r.Flags.Deleted, r.Flags.Draft, uidl); err != nil {
			return res, fmt.Errorf("copy message: %w", err)
		}
		if err := insertKeywords(tx, to, uid, r.Flags.Keywords); err != nil {
			return res, err
		}
		refs[string(r.Blob)]++
		res.Source = append(res.Source, r.UID)
		res.Dest = append(res.Dest, UID(uid))
	}
	if move {
		return res, removeRowsTx(tx, a, from, rows, modseq, false)
	}
	for h, n := range refs {
		if _, err := tx.Exec(`UPDATE blobs SET refs = refs + $1, unref_since = NULL WHERE hash = $2`, n, []byte(h)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// removeRowsTx deletes rows from a mailbox, leaves their tombstones and
// fixes the counters. With releaseBlob it also drops the blob references
// and the account's usage (a move keeps both).
func removeRowsTx(tx *txn, a *Account, mailboxID int64, rows []row, modseq uint64, releaseBlob bool) error {
	if len(rows) == 0 {
		return nil
	}
	var size, unseen, deleted int64
	refs := map[string]int64{}
	now := time.Now().Unix()
	for _, r := range rows {
		if _, err := tx.Exec(`DELETE FROM messages WHERE mailbox_id = $1 AND uid = $2`, mailboxID, int64(r.UID)); err != nil {
			return fmt.Errorf("expunge: %w", err)
		}
		if _, err := tx.Exec(`INSERT INTO vanished (mailbox_id, uid, modseq, expunged) VALUES ($1, $2, $3, $4)`,
			mailboxID, int64(r.UID), modseq, now); err != nil {
			return fmt.Errorf("expunge: %w", err)
		}
		size += r.Size
		unseen += int64(b2i(!r.Flags.Seen))
		deleted += int64(b2i(r.Flags.Deleted))
		refs[string(r.Blob)]++
	}
	if _, err := tx.Exec(`UPDATE mailboxes SET highest_modseq = $1, messages = messages - $2,
		unseen = unseen - $3, deleted = deleted - $4, size = size - $5 WHERE id = $6`,
		modseq, len(rows), unseen, deleted, size, mailboxID); err != nil {
		return err
	}
	if !releaseBlob {
		return nil
	}
	if _, err := tx.Exec(`UPDATE accounts SET used_bytes = used_bytes - $1 WHERE id = $2`, size, a.ID); err != nil {
		return err
	}
	for h, n := range refs {
		if err := unrefBlob(tx, []byte(h), n); err != nil {
			return err
		}
	}
	return nil
}

// Expunge removes the messages of set (nil: all) that are flagged \Deleted,
// and returns their UIDs.
func (s *Store) Expunge(ctx context.Context, a *Account, mailboxID int64, set UIDSet) ([]UID, error) {
	var gone []UID
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			gone = nil
			modseq, err := bumpModSeq(tx, a, 0)
			if err != nil {
				return err
			}
			if err := ownsMailbox(tx, ctx, a, mailboxID); err != nil {
				return err
			}
			rows, err := selectRows(tx, ctx, a, mailboxID, set, true)
			if err != nil {
				return err
			}
			for _, r := range rows {
				gone = append(gone, r.UID)
			}
			return removeRowsTx(tx, a, mailboxID, rows, modseq, true)
		})
	})
	if err == nil && len(gone) > 0 {
		s.notify(a.Domain, mailboxID)
	}
	return gone, err
}

// StoreFlags changes the flags of the messages of set (STORE, RFC 9051
// section 6.4.6). With UnchangedSince, a message whose MODSEQ is higher is
// left alone and listed in Modified (RFC 7162 section 3.1.3). Messages
// whose flags do not change keep their MODSEQ.
func (s *Store) StoreFlags(ctx context.Context, a *Account, mailboxID int64, set UIDSet, req StoreRequest) (StoreResult, error) {
	var res StoreResult
	want := ParseFlags(req.Flags)
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			res = StoreResult{}
			modseq, err := bumpModSeq(tx, a, 0)
			if err != nil {
				return err
			}
			if err := ownsMailbox(tx, ctx, a, mailboxID); err != nil {
				return err
			}
			rows, err := selectRows(tx, ctx, a, mailboxID, set, false)
			if err != nil {
				return err
			}
			var dUnseen, dDeleted int64
			for _, r := range rows {
				if req.UnchangedSince > 0 && r.ModSeq > req.UnchangedSince {
					res.Modified = append(res.Modified, r.UID)
					continue
				}
				nf := applyFlags(r.Flags, want, req.Mode)
				if flagsEqual(nf, r.Flags) {
					continue
				}
				if _, err := tx.Exec(`UPDATE messages SET modseq = $1, seen = $2, answered = $3, flagged = $4, deleted = $5, draft = $6
					WHERE mailbox_id = $7 AND uid = $8`, modseq, nf.Seen, nf.Answered, nf.Flagged, nf.Deleted, nf.Draft,
					mailboxID, int64(r.UID)); err != nil {
					return err
				}
				if !keywordsEqual(nf.Keywords, r.Flags.Keywords) {
					if _, err := tx.Exec(`DELETE FROM keywords WHERE mailbox_id = $1 AND uid = $2`, mailboxID, int64(r.UID)); err != nil {
						return err
					}
					if err := insertKeywords(tx, mailboxID, int64(r.UID), nf.Keywords); err != nil {
						return err
					}
				}
				dUnseen += int64(b2i(!nf.Seen) - b2i(!r.Flags.Seen))
				dDeleted += int64(b2i(nf.Deleted) - b2i(r.Flags.Deleted))
				m := r.Message
				m.Flags, m.ModSeq = nf, modseq
				res.Changed = append(res.Changed, m)
			}
			if len(res.Changed) == 0 {
				return nil
			}
			_, err = tx.Exec(`UPDATE mailboxes SET highest_modseq = $1, unseen = unseen + $2, deleted = deleted + $3 WHERE id = $4`,
				modseq, dUnseen, dDeleted, mailboxID)
			return err
		})
	})
	if err == nil && len(res.Changed) > 0 {
		s.notify(a.Domain, mailboxID)
	}
	return res, err
}

func applyFlags(have, want Flags, mode StoreMode) Flags {
	switch mode {
	case StoreReplace:
		return want
	case StoreAdd:
		out := Flags{Seen: have.Seen || want.Seen, Answered: have.Answered || want.Answered,
			Flagged: have.Flagged || want.Flagged, Deleted: have.Deleted || want.Deleted, Draft: have.Draft || want.Draft}
		out.Keywords = append([]string(nil), have.Keywords...)
		for _, k := range want.Keywords {
			if !have.HasKeyword(k) {
				out.Keywords = append(out.Keywords, k)
			}
		}
		sort.Strings(out.Keywords)
		return out
	default:
		out := Flags{Seen: have.Seen && !want.Seen, Answered: have.Answered && !want.Answered,
			Flagged: have.Flagged && !want.Flagged, Deleted: have.Deleted && !want.Deleted, Draft: have.Draft && !want.Draft}
		for _, k := range have.Keywords {
			if !want.HasKeyword(k) {
				out.Keywords = append(out.Keywords, k)
			}
		}
		return out
	}
}

func flagsEqual(x, y Flags) bool {
	return x.Seen == y.Seen && x.Answered == y.Answered && x.Flagged == y.Flagged &&
		x.Deleted == y.Deleted && x.Draft == y.Draft && keywordsEqual(x.Keywords, y.Keywords)
}

func keywordsEqual(x, y []string) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !strings.EqualFold(x[i], y[i]) {
			return false
		}
	}
	return true
}

// AppendAll stores several messages in one mailbox, all or none
// (MULTIAPPEND, RFC 3502), in one transaction.
func (s *Store) AppendAll(ctx context.Context, a *Account, mailboxID int64, ins []*Incoming, opts []AppendOptions) ([]AppendResult, error) {
	if len(ins) != len(opts) {
		return nil, fmt.Errorf("AppendAll: %d messages, %d options", len(ins), len(opts))
	}
	var results []AppendResult
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		for _, in := range ins {
			if err := s.blobs.stage(t, in); err != nil {
				return err
			}
		}
		return t.write(ctx, func(tx *txn) error {
			results = results[:0]
			for i, in := range ins {
				res, err := s.insertMessageTx(tx, t, Target{Account: a, MailboxID: mailboxID, Options: opts[i]}, in)
				if err != nil {
					return err
				}
				results = append(results, res)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.notify(a.Domain, mailboxID)
	return results, nil
}

// zones caches one *time.Location per UTC offset (in minutes): a FETCH of
// 10,000 rows would otherwise allocate 10,000 of them.
var zones sync.Map

func zone(minutes int) *time.Location {
	if z, ok := zones.Load(minutes); ok {
		return z.(*time.Location)
	}
	z, _ := zones.LoadOrStore(minutes, time.FixedZone("", minutes*60))
	return z.(*time.Location)
}
