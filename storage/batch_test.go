package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// batchWorld is a pair of accounts with the same mailboxes; the test fills
// one world one delivery at a time and the other with insertBatchTx, and
// expects the same state in both.
type batchWorld struct {
	x, y           *Account
	xInbox, xOther *Mailbox
	yInbox         *Mailbox
}

func newBatchWorld(t *testing.T, s *Store, n int) *batchWorld {
	ctx := context.Background()
	w := &batchWorld{
		x: newAccount(t, s, fmt.Sprintf("x%d@example.com", n)),
		y: newAccount(t, s, fmt.Sprintf("y%d@example.com", n)),
	}
	w.xInbox = mustMailbox(t, s, w.x, "INBOX")
	w.xOther = must[*Mailbox](t)(s.CreateMailbox(ctx, w.x, "Other", ""))
	w.yInbox = mustMailbox(t, s, w.y, "INBOX")
	return w
}

// batchDelivery is one delivery of the test: content and targets.
type batchDelivery struct {
	content string
	targets func(w *batchWorld) []Target
}

func batchDeliveries(world int) []batchDelivery {
	own := func(i int) string { // content of this world only: a new blob
		return testMessage(fmt.Sprintf("w%d-m%d", world, i), strings.Repeat("body text ", 50*i+1))
	}
	date := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", -5*3600))
	return []batchDelivery{
		{own(1), func(w *batchWorld) []Target {
			return []Target{{Account: w.x, MailboxID: w.xInbox.ID}}
		}},
		{own(2), func(w *batchWorld) []Target { // flags, keywords, date, UIDL
			return []Target{{Account: w.x, MailboxID: w.xOther.ID, Options: AppendOptions{
				Flags: []string{FlagSeen, FlagDeleted, "$Label1", "Work"}, InternalDate: date, UIDL: "imported-1"}}}
		}},
		{own(3), func(w *batchWorld) []Target { // several targets, two accounts
			return []Target{{Account: w.y, MailboxID: w.yInbox.ID}, {Account: w.x, MailboxID: w.xInbox.ID, Options: AppendOptions{Flags: []string{FlagFlagged}}}}
		}},
		{own(1), func(w *batchWorld) []Target { // the same content again: one blob
			return []Target{{Account: w.y, MailboxID: w.yInbox.ID, Options: AppendOptions{Flags: []string{FlagSeen}}}}
		}},
		{"shared content\r\n\r\nin both worlds\r\n", func(w *batchWorld) []Target { // a blob already stored
			return []Target{{Account: w.x, MailboxID: w.xInbox.ID}}
		}},
		{fmt.Sprintf("Subject: revived w%d-\r\n\r\nno references left\r\n", world), func(w *batchWorld) []Target { // a blob brought back from zero references
			return []Target{{Account: w.y, MailboxID: w.yInbox.ID}}
		}},
		{"", func(w *batchWorld) []Target { // empty
			return []Target{{Account: w.x, MailboxID: w.xOther.ID}}
		}},
		{own(4) + strings.Repeat("x", 70<<10) + "\r\n", func(w *batchWorld) []Target { // past one spool chunk
			return []Target{{Account: w.y, MailboxID: w.yInbox.ID}}
		}},
		{own(5) + strings.Repeat("y", 300<<10) + "\r\n", func(w *batchWorld) []Target { // several blob chunks
			return []Target{{Account: w.x, MailboxID: w.xInbox.ID}}
		}},
	}
}

func TestBatchDeliveryMatchesOneByOne(t *testing.T) {
	for _, comp := range []string{"none", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			eachBackendOpts(t, func(o *Options) { o.Compression = comp }, func(t *testing.T, s *Store) {
				testBatchMatches(t, s)
			})
		})
	}
}

func testBatchMatches(t *testing.T, s *Store) {
	ctx := context.Background()
	one, batch := newBatchWorld(t, s, 1), newBatchWorld(t, s, 2)
	// The shared blob exists before either world delivers it.
	seed := newAccount(t, s, "seed@example.com")
	seedInbox := mustMailbox(t, s, seed, "INBOX")
	must[AppendResult](t)(s.Append(ctx, seed, seedInbox.ID,
		strings.NewReader("shared content\r\n\r\nin both worlds\r\n"), AppendOptions{}))
	// Each world's "revived" blob exists with no reference left.
	for world := 1; world <= 2; world++ {
		content := fmt.Sprintf("Subject: revived w%d-\r\n\r\nno references left\r\n", world)
		must[AppendResult](t)(s.Append(ctx, seed, seedInbox.ID, strings.NewReader(content), AppendOptions{Flags: []string{FlagDeleted}}))
	}
	if gone := must[[]UID](t)(s.Expunge(ctx, seed, seedInbox.ID, nil)); len(gone) != 2 {
		t.Fatalf("expunged %v", gone)
	}

	// One world, one delivery at a time.
	var want [][]DeliveryResult
	for _, d := range batchDeliveries(1) {
		in := must[*Incoming](t)(s.Receive(strings.NewReader(d.content)))
		res := s.Deliver(ctx, in, d.targets(one))
		in.Close()
		for _, r := range res {
			check(t, r.Err)
		}
		want = append(want, res)
	}

	// The other world in one batch.
	var ops []*appendOp
	var got [][]DeliveryResult
	for _, d := range batchDeliveries(2) {
		in := must[*Incoming](t)(s.Receive(strings.NewReader(d.content)))
		defer in.Close()
		tgs := d.targets(batch)
		res := make([]DeliveryResult, len(tgs))
		idx := make([]int, len(tgs))
		for i := range idx {
			idx[i] = i
		}
		ops = append(ops, &appendOp{s: s, in: in, targets: tgs, idx: idx, results: res})
		got = append(got, res)
	}
	check(t, s.withTenant(ctx, "example.com", func(tn *tenant) error {
		for _, op := range ops {
			op.t = tn
			if err := s.blobs.stage(tn, op.in); err != nil {
				return err
			}
		}
		return tn.write(ctx, func(tx *txn) error { return insertBatchTx(tx, ops) })
	}))

	for i := range want {
		for j := range want[i] {
			w, g := want[i][j].AppendResult, got[i][j].AppendResult
			if g.UID != w.UID || g.ModSeq != w.ModSeq || g.UIDValidity != w.UIDValidity || got[i][j].Err != nil {
				t.Errorf("delivery %d target %d: batch gave %+v, %v; one by one %+v", i, j, g, got[i][j].Err, w)
			}
		}
	}
	pairs := []struct {
		a, b   *Account
		ma, mb *Mailbox
	}{{one.x, batch.x, one.xInbox, batch.xInbox}, {one.x, batch.x, one.xOther, batch.xOther}, {one.y, batch.y, one.yInbox, batch.yInbox}}
	for _, p := range pairs {
		ma := must[*Mailbox](t)(s.MailboxByID(ctx, p.a, p.ma.ID))
		mb := must[*Mailbox](t)(s.MailboxByID(ctx, p.b, p.mb.ID))
		if ma.UIDNext != mb.UIDNext || ma.HighestModSeq != mb.HighestModSeq || ma.Messages != mb.Messages ||
			ma.Unseen != mb.Unseen || ma.Deleted != mb.Deleted || ma.Size != mb.Size || ma.UIDValidity != mb.UIDValidity {
			t.Errorf("mailbox %s: batch %+v, one by one %+v", ma.Name, mb, ma)
		}
		xs := must[[]Message](t)(s.Messages(ctx, p.a, p.ma.ID, nil, WantParsed|WantHeader))
		ys := must[[]Message](t)(s.Messages(ctx, p.b, p.mb.ID, nil, WantParsed|WantHeader))
		if len(xs) != len(ys) {
			t.Fatalf("mailbox %s: batch has %d messages, one by one %d", ma.Name, len(ys), len(xs))
		}
		for i := range xs {
			x, y := xs[i], ys[i]
			// Dates left to "now" may fall in different seconds.
			if x.UID != y.UID || x.ModSeq != y.ModSeq || x.Size != y.Size || x.InternalDate.Sub(y.InternalDate).Abs() > 5*time.Second ||
				x.UIDL != y.UIDL || fmt.Sprint(x.Flags) != fmt.Sprint(y.Flags) || (x.Parsed == nil) != (y.Parsed == nil) {
				t.Errorf("mailbox %s message %d: batch %+v, one by one %+v", ma.Name, i, y, x)
			}
			_, xo := x.InternalDate.Zone()
			_, yo := y.InternalDate.Zone()
			if xo != yo {
				t.Errorf("mailbox %s message %d: zone %d, one by one %d", ma.Name, i, yo, xo)
			}
			xc := readAll(t, s, p.a, p.ma.ID, x.UID)
			yc := readAll(t, s, p.b, p.mb.ID, y.UID)
			if x.Size != int64(len(xc)) || !strings.HasPrefix(yc, "From: Alice") && y.Size > 100 {
				t.Errorf("mailbox %s message %d: content of %d bytes, size %d", ma.Name, i, len(yc), y.Size)
			}
			if strings.ReplaceAll(xc, "w1-", "w2-") != yc {
				t.Errorf("mailbox %s message %d: batch content differs", ma.Name, i)
			}
		}
	}
	for _, p := range [][2]*Account{{one.x, batch.x}, {one.y, batch.y}} {
		qa := must[Quota](t)(s.Quota(ctx, p[0]))
		qb := must[Quota](t)(s.Quota(ctx, p[1]))
		if qa != qb {
			t.Errorf("account %s: quota %+v, one by one %+v", p[1].Name, qb, qa)
		}
	}
	if rep := must[FsckReport](t)(s.Fsck(ctx)); rep.Mailboxes+rep.Accounts+rep.Blobs != 0 {
		t.Fatalf("fsck %+v", rep)
	}
}

func readAll(t *testing.T, s *Store, a *Account, mailboxID int64, uid UID) string {
	t.Helper()
	c := must[*Content](t)(s.Open(context.Background(), a, mailboxID, uid))
	defer c.Close()
	b, err := io.ReadAll(c.Reader())
	check(t, err)
	return string(b)
}

// A batch in which a target would fail stores nothing and asks for the
// one-by-one path; the group writer then gives each delivery its own
// outcome.
func TestBatchDeliveryFallsBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "quota@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		check(t, s.SetQuota(ctx, a.Name, 1000))
		cases := map[string][]Target{
			"over quota":      {{Account: a, MailboxID: inbox.ID}, {Account: a, MailboxID: inbox.ID}},
			"missing mailbox": {{Account: a, MailboxID: inbox.ID}, {Account: a, MailboxID: 999999}},
			"foreign mailbox": {{Account: a, MailboxID: inbox.ID}, {Account: newAccount(t, s, "other@example.com"), MailboxID: inbox.ID}},
		}
		for name, tgs := range cases {
			var ops []*appendOp
			for i, tg := range tgs {
				in := must[*Incoming](t)(s.Receive(strings.NewReader(testMessage(name+fmt.Sprint(i), strings.Repeat("z", 400)))))
				defer in.Close()
				ops = append(ops, &appendOp{s: s, in: in, targets: []Target{tg}, idx: []int{0}, results: make([]DeliveryResult, 1)})
			}
			err := s.withTenant(ctx, "example.com", func(tn *tenant) error {
				for _, op := range ops {
					op.t = tn
					check(t, s.blobs.stage(tn, op.in))
				}
				return tn.write(ctx, func(tx *txn) error { return insertBatchTx(tx, ops) })
			})
			if !errors.Is(err, errBatchFallback) {
				t.Errorf("%s: %v, want errBatchFallback", name, err)
			}
		}
		if mb := mustMailbox(t, s, a, "INBOX"); mb.Messages != 0 || mb.UIDNext != 1 {
			t.Fatalf("a failed batch left %d messages, UIDNEXT %d", mb.Messages, mb.UIDNext)
		}
		if q := must[Quota](t)(s.Quota(ctx, a)); q.UsedBytes != 0 {
			t.Fatalf("a failed batch left %d bytes used", q.UsedBytes)
		}
	})
}
