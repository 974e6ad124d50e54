package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// concFlagKey is a canonical form of a set of flags, for comparisons.
func concFlagKey(f Flags) string {
	names := f.Names()
	for i := range names {
		names[i] = strings.ToLower(names[i])
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// concFlagLog records, for every message, the flags it has at each MODSEQ it
// ever had: what the writers were told (AppendResult, StoreResult). Every
// state a reader observes must be one of those.
type concFlagLog struct {
	mu      sync.Mutex
	states  map[UID]map[uint64]string
	opSeqs  map[uint64]string // MODSEQ -> the operation that got it
	dupSeqs []string
}

func newConcFlagLog() *concFlagLog {
	return &concFlagLog{states: map[UID]map[uint64]string{}, opSeqs: map[uint64]string{}}
}

func (l *concFlagLog) op(modseq uint64, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, dup := l.opSeqs[modseq]; dup {
		l.dupSeqs = append(l.dupSeqs, fmt.Sprintf("MODSEQ %d given to both %s and %s", modseq, prev, what))
	}
	l.opSeqs[modseq] = what
}

func (l *concFlagLog) state(uid UID, modseq uint64, f Flags) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.states[uid]
	if m == nil {
		m = map[uint64]string{}
		l.states[uid] = m
	}
	m[modseq] = concFlagKey(f)
}

// last returns the newest recorded state of uid.
func (l *concFlagLog) last(uid UID) (uint64, string, bool) {
	var best uint64
	var key string
	for ms, k := range l.states[uid] {
		if ms >= best {
			best, key = ms, k
		}
	}
	return best, key, best > 0
}

type concObservation struct {
	uid    UID
	modseq uint64
	flags  string
	via    string
}

// concurrentRun is what one run of the concurrent workload saw.
type concurrentRun struct {
	mb       *Mailbox
	appended [][]AppendResult
	expunged map[UID]bool
	log      *concFlagLog
	obs      []concObservation // states a concurrent reader saw
	readErrs []string          // what the reader found wrong while it ran
}

const (
	concAppenders   = 16
	concPerAppender = 40
	concFlaggers    = 3
	concFlagOps     = 60
	concExpunges    = 40
)

// runConcurrent runs 16 appenders, 3 flag changers (add/remove, sometimes
// with UNCHANGEDSINCE) and an expunger (\Deleted then Expunge, recording
// what it expunged) against one mailbox, while a reader follows with
// Changes and Messages as an IMAP session in IDLE would. It fails t on any
// error a writer gets, and leaves the checking of the results to the caller.
func runConcurrent(t *testing.T, s *Store, a *Account) *concurrentRun {
	ctx := context.Background()
	mb := mustMailbox(t, s, a, "INBOX")
	run := &concurrentRun{mb: mb, appended: make([][]AppendResult, concAppenders), expunged: map[UID]bool{}, log: newConcFlagLog()}
	log := run.log

	var liveMu sync.Mutex
	var live []UID // appended, not yet picked by the expunger
	var maxUID UID

	var errMu sync.Mutex
	var errs []string
	fail := func(format string, args ...any) {
		errMu.Lock()
		defer errMu.Unlock()
		if len(errs) < 50 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}

	var writers, readers sync.WaitGroup
	done := make(chan struct{})

	for g := range concAppenders {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range concPerAppender {
				var fl []string
				if i%3 == 0 {
					fl = append(fl, FlagSeen)
				}
				if i%5 == 0 {
					fl = append(fl, FlagDeleted)
				}
				if i%7 == 0 {
					fl = append(fl, "$Initial")
				}
				msg := testMessage(fmt.Sprintf("a%d-%d", g, i), strings.Repeat(fmt.Sprintf("appender %d message %d\n", g, i), 1+i%4))
				res, err := s.Append(ctx, a, mb.ID, strings.NewReader(msg), AppendOptions{Flags: fl})
				if err != nil {
					fail("appender %d: append %d: %v", g, i, err)
					return
				}
				run.appended[g] = append(run.appended[g], res)
				log.op(res.ModSeq, fmt.Sprintf("append %d/%d", g, i))
				log.state(res.UID, res.ModSeq, ParseFlags(fl))
				liveMu.Lock()
				live = append(live, res.UID)
				maxUID = max(maxUID, res.UID)
				liveMu.Unlock()
			}
		}()
	}

	flagNames := []string{FlagSeen, FlagFlagged, FlagAnswered, "$Work", "$Urgent"}
	for g := range concFlaggers {
		writers.Add(1)
		go func() {
			defer writers.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			var lastSeq uint64
			for i := range concFlagOps {
				liveMu.Lock()
				top := max(maxUID, 1)
				liveMu.Unlock()
				var set UIDSet
				switch rng.IntN(3) {
				case 0:
					lo := UID(1 + rng.IntN(int(top)))
					set = UIDSet{{lo, lo + UID(rng.IntN(10))}}
				case 1:
					set = UIDSetOf(UID(1+rng.IntN(int(top))), UID(1+rng.IntN(int(top))), UID(1+rng.IntN(int(top))))
				default:
					set = UIDSet{{UID(1 + rng.IntN(int(top))), 0}}
				}
				var fl []string
				for _, f := range flagNames {
					if rng.IntN(2) == 0 {
						fl = append(fl, f)
					}
				}
				if len(fl) == 0 {
					fl = []string{FlagFlagged}
				}
				req := StoreRequest{Mode: StoreAdd, Flags: fl}
				if rng.IntN(2) == 0 {
					req.Mode = StoreRemove
				}
				if rng.IntN(4) == 0 && lastSeq > 0 {
					req.UnchangedSince = lastSeq
				}
				res, err := s.StoreFlags(ctx, a, mb.ID, set, req)
				if err != nil {
					fail("flagger %d: store %d: %v", g, i, err)
					return
				}
				var seq uint64
				for _, m := range res.Changed {
					if seq != 0 && m.ModSeq != seq {
						fail("flagger %d: one STORE gave two MODSEQs, %d and %d", g, seq, m.ModSeq)
					}
					seq = m.ModSeq
					if !set.Contains(m.UID) {
						fail("flagger %d: STORE %v changed UID %d", g, set, m.UID)
					}
					log.state(m.UID, m.ModSeq, m.Flags)
				}
				for _, u := range res.Modified {
					if !set.Contains(u) {
						fail("flagger %d: STORE %v reported UID %d as modified", g, set, u)
					}
				}
				if seq != 0 {
					if seq <= lastSeq {
						fail("flagger %d: MODSEQ went from %d to %d", g, lastSeq, seq)
					}
					lastSeq = seq
					log.op(seq, fmt.Sprintf("store %d/%d", g, i))
				}
			}
		}()
	}

	writers.Add(1)
	go func() {
		defer writers.Done()
		rng := rand.New(rand.NewPCG(7, 7))
		var lastSeq uint64
		for round := 0; round < concExpunges; {
			liveMu.Lock()
			var pick []UID
			for n := 1 + rng.IntN(4); n > 0 && len(live) > 0; n-- {
				i := rng.IntN(len(live))
				pick = append(pick, live[i])
				live = slices.Delete(live, i, i+1)
			}
			liveMu.Unlock()
			if len(pick) == 0 {
				time.Sleep(time.Millisecond) // wait for appends
				continue
			}
			round++
			set := UIDSetOf(pick...)
			res, err := s.StoreFlags(ctx, a, mb.ID, set, StoreRequest{Mode: StoreAdd, Flags: []string{FlagDeleted}})
			if err != nil {
				fail("expunger: store: %v", err)
				return
			}
			for _, m := range res.Changed {
				log.state(m.UID, m.ModSeq, m.Flags)
				if m.ModSeq <= lastSeq {
					fail("expunger: MODSEQ went from %d to %d", lastSeq, m.ModSeq)
				}
			}
			if len(res.Changed) > 0 {
				lastSeq = res.Changed[0].ModSeq
				log.op(lastSeq, fmt.Sprintf("expunger store %d", round))
			}
			gone, err := s.Expunge(ctx, a, mb.ID, set)
			if err != nil {
				fail("expunger: expunge: %v", err)
				return
			}
			slices.Sort(gone)
			slices.Sort(pick)
			if !slices.Equal(gone, pick) {
				fail("expunger: flagged %v \\Deleted, expunge removed %v", pick, gone)
			}
			liveMu.Lock()
			for _, u := range gone {
				run.expunged[u] = true
			}
			liveMu.Unlock()
		}
	}()

	readers.Add(1)
	go func() {
		defer readers.Done()
		var since, highest uint64
		rfail := func(format string, args ...any) {
			if len(run.readErrs) < 20 {
				run.readErrs = append(run.readErrs, fmt.Sprintf(format, args...))
			}
		}
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			ch, err := s.Changes(ctx, a, mb.ID, since)
			if err != nil {
				fail("reader: changes: %v", err)
				return
			}
			if ch.HighestModSeq < highest {
				rfail("reader: HIGHESTMODSEQ went back from %d to %d", highest, ch.HighestModSeq)
			}
			highest = ch.HighestModSeq
			for _, m := range ch.Changed {
				if m.ModSeq <= since || m.ModSeq > ch.HighestModSeq {
					rfail("reader: Changes(%d) returned UID %d with MODSEQ %d above its HIGHESTMODSEQ %d", since, m.UID, m.ModSeq, ch.HighestModSeq)
				}
				run.obs = append(run.obs, concObservation{m.UID, m.ModSeq, concFlagKey(m.Flags), "Changes"})
			}
			since = ch.HighestModSeq
			if i%4 == 0 {
				msgs, err := s.Messages(ctx, a, mb.ID, nil, 0)
				if err != nil {
					fail("reader: messages: %v", err)
					return
				}
				for _, m := range msgs {
					run.obs = append(run.obs, concObservation{m.UID, m.ModSeq, concFlagKey(m.Flags), "Messages"})
				}
			}
		}
	}()

	writers.Wait()
	close(done)
	readers.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d failures during the run:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	return run
}

// TestConcurrentAppendFlagsExpunge checks, after the concurrent workload,
// that no UID, row, MODSEQ or counter was lost or shared.
func TestConcurrentAppendFlagsExpunge(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "conc@example.com")
		run := runConcurrent(t, s, a)
		mb, log, expunged := run.mb, run.log, run.expunged

		// UIDs: distinct, and increasing for each appender; so are MODSEQs.
		all := map[UID]bool{}
		appendSeqs := map[uint64]bool{}
		for g, rs := range run.appended {
			if len(rs) != concPerAppender {
				t.Fatalf("appender %d stored %d messages, want %d", g, len(rs), concPerAppender)
			}
			for i, r := range rs {
				if all[r.UID] {
					t.Errorf("UID %d returned to two appends", r.UID)
				}
				all[r.UID] = true
				if appendSeqs[r.ModSeq] {
					t.Errorf("MODSEQ %d returned to two appends", r.ModSeq)
				}
				appendSeqs[r.ModSeq] = true
				if r.UIDValidity != mb.UIDValidity {
					t.Errorf("append got UIDVALIDITY %d, mailbox has %d", r.UIDValidity, mb.UIDValidity)
				}
				if i > 0 && (r.UID <= rs[i-1].UID || r.ModSeq <= rs[i-1].ModSeq) {
					t.Errorf("appender %d: append %d got UID %d MODSEQ %d after UID %d MODSEQ %d",
						g, i, r.UID, r.ModSeq, rs[i-1].UID, rs[i-1].ModSeq)
				}
			}
		}
		// Every write (append or STORE that changed something) took its own MODSEQ.
		for _, d := range log.dupSeqs {
			t.Error(d)
		}
		for _, e := range run.readErrs {
			if strings.Contains(e, "went back") {
				t.Error(e)
			}
		}

		// No lost rows: every appended UID is present or was expunged.
		msgs := must[[]Message](t)(s.Messages(ctx, a, mb.ID, nil, 0))
		present := map[UID]bool{}
		var want Mailbox
		for _, m := range msgs {
			present[m.UID] = true
			if !all[m.UID] {
				t.Errorf("UID %d is in the mailbox but no append returned it", m.UID)
			}
			if expunged[m.UID] {
				t.Errorf("UID %d was expunged but is still there", m.UID)
			}
			want.Messages++
			want.Size += m.Size
			want.Unseen += int64(b2i(!m.Flags.Seen))
			want.Deleted += int64(b2i(m.Flags.Deleted))
			seq, key, ok := log.last(m.UID)
			if !ok || seq != m.ModSeq || key != concFlagKey(m.Flags) {
				t.Errorf("UID %d ends with MODSEQ %d flags [%s]; the last write said MODSEQ %d flags [%s]",
					m.UID, m.ModSeq, concFlagKey(m.Flags), seq, key)
			}
		}
		for u := range all {
			if !present[u] && !expunged[u] {
				t.Errorf("UID %d was appended, never expunged, and is gone", u)
			}
		}
		if len(expunged) == 0 {
			t.Error("the expunger expunged nothing")
		}

		// Counters.
		got := must[*Mailbox](t)(s.MailboxByID(ctx, a, mb.ID))
		if got.Messages != want.Messages || got.Unseen != want.Unseen || got.Deleted != want.Deleted || got.Size != want.Size {
			t.Errorf("counters messages=%d unseen=%d deleted=%d size=%d; rows say %d %d %d %d",
				got.Messages, got.Unseen, got.Deleted, got.Size, want.Messages, want.Unseen, want.Deleted, want.Size)
		}
		var maxUID UID
		for u := range all {
			maxUID = max(maxUID, u)
		}
		if got.UIDNext != maxUID+1 {
			t.Errorf("UIDNEXT %d, highest UID given %d", got.UIDNext, maxUID)
		}
		q := must[Quota](t)(s.Quota(ctx, a))
		if q.UsedBytes != want.Size || q.Messages != want.Messages {
			t.Errorf("quota %+v; rows say %d bytes in %d messages", q, want.Size, want.Messages)
		}

		// MODSEQs: Changes from 0 gives every live message, none above
		// HIGHESTMODSEQ, and every expunged UID.
		ch := must[*Changes](t)(s.Changes(ctx, a, mb.ID, 0))
		if ch.HighestModSeq != got.HighestModSeq {
			t.Errorf("Changes HIGHESTMODSEQ %d, mailbox %d", ch.HighestModSeq, got.HighestModSeq)
		}
		var maxOp uint64
		for ms := range log.opSeqs {
			maxOp = max(maxOp, ms)
		}
		if got.HighestModSeq < maxOp {
			t.Errorf("HIGHESTMODSEQ %d is below a MODSEQ %d given out", got.HighestModSeq, maxOp)
		}
		if len(ch.Changed) != len(msgs) {
			t.Errorf("Changes(0) lists %d messages, the mailbox has %d", len(ch.Changed), len(msgs))
		}
		for _, m := range ch.Changed {
			if m.ModSeq > ch.HighestModSeq || m.ModSeq == 0 {
				t.Errorf("UID %d has MODSEQ %d, HIGHESTMODSEQ is %d", m.UID, m.ModSeq, ch.HighestModSeq)
			}
		}
		var wantVanished []UID
		for u := range expunged {
			wantVanished = append(wantVanished, u)
		}
		slices.Sort(wantVanished)
		if !slices.Equal(ch.Vanished, wantVanished) {
			t.Errorf("vanished %v, expunged %v", ch.Vanished, wantVanished)
		}

		rep := must[FsckReport](t)(s.Fsck(ctx))
		if rep.Mailboxes != 0 || rep.Accounts != 0 || rep.Blobs != 0 {
			t.Errorf("fsck fixed %+v", rep)
		}
	})
}

// TestConcurrentReadsAreSnapshots checks what a reader sees while the
// concurrent workload runs: Changes must never list a message with a
// MODSEQ above the HIGHESTMODSEQ it reports (the client would store that
// HIGHESTMODSEQ and be told the same change again, or, worse, skip one),
// and every (UID, MODSEQ, flags) that Changes or Messages returns must be a
// state some write produced: FETCH (FLAGS MODSEQ) must not mix two states
// (RFC 7162 section 3.1.4).
func TestConcurrentReadsAreSnapshots(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		a := newAccount(t, s, "snap@example.com")
		run := runConcurrent(t, s, a)
		for _, e := range run.readErrs {
			t.Error(e)
		}
		bad := map[string]int{}
		for _, o := range run.obs {
			key, ok := run.log.states[o.uid][o.modseq]
			if !ok || key != o.flags {
				if bad[o.via]++; bad[o.via] <= 5 {
					t.Errorf("%s returned UID %d at MODSEQ %d with flags [%s]; the write of that MODSEQ left [%s] (known: %v)",
						o.via, o.uid, o.modseq, o.flags, key, ok)
				}
			}
		}
		for via, n := range bad {
			t.Errorf("%s: %d observations of %d mixed two states", via, n, len(run.obs))
		}
	})
}
