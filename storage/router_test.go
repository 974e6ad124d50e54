package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// routerStore opens a SQLite store for the router tests.
func routerStore(t *testing.T, tweak func(*Options)) (*Store, *sqliteRouter) {
	t.Helper()
	opts := Options{Backend: "sqlite", DataDir: t.TempDir()}
	if tweak != nil {
		tweak(&opts)
	}
	s, err := Open(context.Background(), opts)
	check(t, err)
	t.Cleanup(func() { s.Close() })
	r, ok := s.router.(*sqliteRouter)
	if !ok {
		t.Fatalf("router is %T", s.router)
	}
	return s, r
}

// routerOpen lists the domains the router holds open, with their refs.
func routerOpen(r *sqliteRouter) map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for d, t := range r.open {
		out[d] = t.refs
	}
	if r.lru.Len() != len(r.open) {
		out["!lru"] = r.lru.Len()
	}
	return out
}

func routerDomains(n int) []string {
	var ds []string
	for i := range n {
		ds = append(ds, fmt.Sprintf("d%d.example", i))
	}
	return ds
}

// TestRouterLRU: with at most 2 files open, work across 6 domains keeps
// working, sequentially and concurrently, and once released at most 2
// files stay open.
func TestRouterLRU(t *testing.T) {
	s, r := routerStore(t, func(o *Options) { o.MaxOpenDomains = 2 })
	ctx := context.Background()
	domains := routerDomains(6)
	accounts := map[string]*Account{}
	inbox := map[string]int64{}
	for _, d := range domains {
		a := newAccount(t, s, "user@"+d)
		accounts[d] = a
		inbox[d] = mustMailbox(t, s, a, "INBOX").ID
	}
	atMost2 := func(when string) {
		t.Helper()
		open := routerOpen(r)
		if len(open) > 2 {
			t.Fatalf("%s: %d domain files open, max 2: %v", when, len(open), open)
		}
		for d, refs := range open {
			if refs != 0 {
				t.Fatalf("%s: %s still has %d references", when, d, refs)
			}
		}
	}
	atMost2("after creating the accounts")

	want := map[string]int{}
	for pass := range 3 {
		for _, d := range domains {
			a := accounts[d]
			msg := testMessage(fmt.Sprintf("%s-%d", d, pass), "hello "+d)
			must[AppendResult](t)(s.Append(ctx, a, inbox[d], strings.NewReader(msg), AppendOptions{}))
			want[d]++
			atMost2("after an append to " + d)
			msgs := must[[]Message](t)(s.Messages(ctx, a, inbox[d], nil, WantParsed))
			if len(msgs) != want[d] {
				t.Fatalf("%s: %d messages, want %d", d, len(msgs), want[d])
			}
			found := must[[]UID](t)(s.Search(ctx, a, inbox[d], &SearchCriteria{Body: []string{"hello " + d}}))
			if len(found) != want[d] {
				t.Fatalf("%s: search found %v, want %d", d, found, want[d])
			}
			atMost2("after reading " + d)
		}
	}

	// Files in use stay open past the limit, and are closed once released.
	var contents []*Content
	for _, d := range domains[:4] {
		contents = append(contents, must[*Content](t)(s.Open(ctx, accounts[d], inbox[d], 1)))
	}
	if open := routerOpen(r); len(open) != 4 {
		t.Fatalf("4 contents open, %d files open: %v", len(open), open)
	}
	// Another domain still works while the limit is passed.
	must[*Mailbox](t)(s.MailboxByID(ctx, accounts[domains[5]], inbox[domains[5]]))
	for i, c := range contents {
		b, err := io.ReadAll(c.Reader())
		if err != nil || !strings.Contains(string(b), "hello "+domains[i]) {
			t.Fatalf("content of %s: %q, %v", domains[i], b, err)
		}
		check(t, c.Close())
	}
	atMost2("after closing the contents")

	// Concurrent work across every domain.
	var wg sync.WaitGroup
	var counts [6]atomic.Int64
	errs := make(chan error, 100)
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				k := (g + i) % len(domains)
				d := domains[k]
				a := accounts[d]
				if i%3 == 0 {
					if _, err := s.Append(ctx, a, inbox[d], strings.NewReader(testMessage(fmt.Sprintf("c%d-%d", g, i), "x")), AppendOptions{}); err != nil {
						errs <- fmt.Errorf("append %s: %w", d, err)
						return
					}
					counts[k].Add(1)
					continue
				}
				if _, err := s.Messages(ctx, a, inbox[d], nil, WantHeader); err != nil {
					errs <- fmt.Errorf("messages %s: %w", d, err)
					return
				}
				c, err := s.Open(ctx, a, inbox[d], 1)
				if err != nil {
					errs <- fmt.Errorf("open %s: %w", d, err)
					return
				}
				_, err = io.Copy(io.Discard, c.Reader())
				c.Close()
				if err != nil {
					errs <- fmt.Errorf("read %s: %w", d, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	atMost2("after concurrent work")
	for k, d := range domains {
		mb := must[*Mailbox](t)(s.MailboxByID(ctx, accounts[d], inbox[d]))
		if mb.Messages != int64(want[d])+counts[k].Load() {
			t.Errorf("%s: %d messages, want %d", d, mb.Messages, int64(want[d])+counts[k].Load())
		}
	}
	atMost2("at the end")
	if rep := must[FsckReport](t)(s.Fsck(ctx)); rep.Databases != 6 || rep.Mailboxes+rep.Accounts+rep.Blobs != 0 {
		t.Errorf("fsck %+v", rep)
	}
	atMost2("after fsck")
}

// TestRouterIdleClose: the janitor closes files nobody used for IdleClose,
// leaves files in use alone, and a closed domain reopens on demand.
func TestRouterIdleClose(t *testing.T) {
	s, r := routerStore(t, func(o *Options) { o.IdleClose = 200 * time.Millisecond })
	ctx := context.Background()
	a := newAccount(t, s, "idle@one.example")
	b := newAccount(t, s, "idle@two.example")
	ia, ib := mustMailbox(t, s, a, "INBOX").ID, mustMailbox(t, s, b, "INBOX").ID
	must[AppendResult](t)(s.Append(ctx, a, ia, strings.NewReader(testMessage("one", "one")), AppendOptions{}))
	must[AppendResult](t)(s.Append(ctx, b, ib, strings.NewReader(testMessage("two", "two")), AppendOptions{}))

	c := must[*Content](t)(s.Open(ctx, b, ib, 1)) // keeps two.example in use
	routerWaitFor(t, 5*time.Second, "one.example to be closed", func() bool {
		_, open := routerOpen(r)["one.example"]
		return !open
	})
	time.Sleep(1500 * time.Millisecond) // a few more janitor rounds
	if refs, open := routerOpen(r)["two.example"]; !open || refs != 1 {
		t.Fatalf("two.example is in use, yet open=%v refs=%d", open, refs)
	}
	if b, err := io.ReadAll(c.Reader()); err != nil || !strings.Contains(string(b), "two") {
		t.Fatalf("reading an in-use domain after idle rounds: %q %v", b, err)
	}
	check(t, c.Close())
	routerWaitFor(t, 5*time.Second, "every file to be closed", func() bool { return len(routerOpen(r)) == 0 })

	// Reopened on demand.
	if msgs := must[[]Message](t)(s.Messages(ctx, a, ia, nil, 0)); len(msgs) != 1 {
		t.Fatalf("after idle close: %d messages", len(msgs))
	}
	must[AppendResult](t)(s.Append(ctx, a, ia, strings.NewReader(testMessage("three", "three")), AppendOptions{}))
	if mb := must[*Mailbox](t)(s.MailboxByID(ctx, a, ia)); mb.Messages != 2 {
		t.Fatalf("after reopen: %+v", mb)
	}
}

func routerWaitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRouterDeleteDomain: DeleteDomain refuses while the domain is in use,
// then removes its directory; the domain is gone until added again, and
// comes back empty.
func TestRouterDeleteDomain(t *testing.T) {
	s, r := routerStore(t, nil)
	ctx := context.Background()
	a := newAccount(t, s, "gone@doomed.example")
	keep := newAccount(t, s, "stay@kept.example")
	ia := mustMailbox(t, s, a, "INBOX").ID
	must[AppendResult](t)(s.Append(ctx, a, ia, strings.NewReader(testMessage("doomed", "x")), AppendOptions{}))
	dir := r.domainDir("doomed.example")
	if _, err := os.Stat(filepath.Join(dir, "letterbox.db")); err != nil {
		t.Fatal(err)
	}

	c := must[*Content](t)(s.Open(ctx, a, ia, 1))
	if err := s.DeleteDomain(ctx, "doomed.example"); err == nil {
		t.Fatal("DeleteDomain succeeded while a message of the domain was open")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("refused DeleteDomain removed the directory: %v", err)
	}
	check(t, c.Close())

	check(t, s.DeleteDomain(ctx, "doomed.example"))
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("directory still there after DeleteDomain: %v", err)
	}
	if _, open := routerOpen(r)["doomed.example"]; open {
		t.Fatal("deleted domain still open in the router")
	}
	if ds := must[[]string](t)(s.Domains(ctx)); slices.Contains(ds, "doomed.example") || !slices.Contains(ds, "kept.example") {
		t.Fatalf("domains after delete: %v", ds)
	}
	_, err := s.Account(ctx, "gone@doomed.example")
	wantErr(t, err, ErrNoDomain)
	_, err = s.Messages(ctx, a, ia, nil, 0)
	wantErr(t, err, ErrNoDomain)
	_, err = s.Append(ctx, a, ia, strings.NewReader(testMessage("late", "x")), AppendOptions{})
	wantErr(t, err, ErrNoDomain)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a call on the deleted domain re-created its directory: %v", err)
	}
	wantErr(t, s.DeleteDomain(ctx, "doomed.example"), ErrNoDomain)
	wantErr(t, s.DeleteDomain(ctx, "never.example"), ErrNoDomain)

	// Back, empty.
	check(t, s.AddDomain(ctx, "doomed.example"))
	if accts := must[[]*Account](t)(s.Accounts(ctx, "doomed.example")); len(accts) != 0 {
		t.Fatalf("re-added domain has accounts %v", accts)
	}
	// The other domain is untouched.
	must[*Mailbox](t)(s.Mailbox(ctx, keep, "INBOX"))
}

// TestRouterInvalidDomainNames: names that could escape the data
// directory, or that are not lower-case DNS names, are refused everywhere.
func TestRouterInvalidDomainNames(t *testing.T) {
	s, r := routerStore(t, nil)
	ctx := context.Background()
	newAccount(t, s, "ok@fine.example")
	listing := func() []string {
		var out []string
		filepath.WalkDir(s.opts.DataDir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
		return out
	}
	before := listing()
	for _, name := range []string{"", "..", ".", "../evil", "../../evil", "a/b", "/abs", "x/../y", "a..b",
		"Example.com", "UPPER", "fine.Example", "a\\b", "a b", "a\x00b", ".hidden", "trailing."} {
		wantErr(t, s.AddDomain(ctx, name), ErrInvalidName)
		wantErr(t, s.DeleteDomain(ctx, name), ErrInvalidName)
		_, err := s.Accounts(ctx, name)
		wantErr(t, err, ErrInvalidName)
		_, err = r.acquire(ctx, name)
		wantErr(t, err, ErrInvalidName)
		if strings.ToLower(name) != name {
			continue // logins are case-insensitive: user@Example.com is user@example.com
		}
		_, err = s.CreateAccount(ctx, "user@"+name, "{PLAIN}x", 0)
		wantErr(t, err, ErrInvalidName)
		_, err = s.Account(ctx, "user@"+name)
		wantErr(t, err, ErrInvalidName)
	}
	if after := listing(); !slices.Equal(before, after) {
		t.Fatalf("directories changed:\nbefore %v\nafter  %v", before, after)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.opts.DataDir), "evil")); err == nil {
		t.Fatal("a directory was created outside the data directory")
	}
	// The upper-case form of a login reaches the lower-case domain.
	a := must[*Account](t)(s.Account(ctx, "OK@FINE.EXAMPLE"))
	if a.Domain != "fine.example" {
		t.Fatalf("account %+v", a)
	}
}

// TestRouterConcurrentAcquire: many goroutines acquiring a closed domain at
// once get one tenant: the file is opened once.
func TestRouterConcurrentAcquire(t *testing.T) {
	s, r := routerStore(t, func(o *Options) { o.MaxOpenDomains = 2 })
	ctx := context.Background()
	for _, d := range []string{"target.example", "other1.example", "other2.example"} {
		check(t, s.AddDomain(ctx, d))
	}
	const n = 16
	for round := range 20 {
		// Close target.example by using two other domains.
		for _, d := range []string{"other1.example", "other2.example"} {
			tn, err := r.acquire(ctx, d)
			check(t, err)
			r.release(tn)
		}
		if _, open := routerOpen(r)["target.example"]; open {
			t.Fatalf("round %d: target.example still open", round)
		}
		var got [n]*tenant
		var ready, start sync.WaitGroup
		ready.Add(n)
		start.Add(1)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Done()
				start.Wait()
				tn, err := r.acquire(ctx, "target.example")
				if err != nil {
					t.Error(err)
					return
				}
				got[i] = tn
			}()
		}
		ready.Wait()
		start.Done()
		wg.Wait()
		if t.Failed() {
			return
		}
		for i := range n {
			if got[i] != got[0] {
				t.Fatalf("round %d: acquire %d got tenant %p, acquire 0 got %p: the file was opened twice", round, i, got[i], got[0])
			}
		}
		if refs := routerOpen(r)["target.example"]; refs != n {
			t.Fatalf("round %d: %d references, want %d", round, refs, n)
		}
		// The one tenant works.
		var one int
		check(t, got[0].db.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE name = 'target.example'`).Scan(&one))
		if one != 1 {
			t.Fatalf("round %d: domains row count %d", round, one)
		}
		for i := range n {
			r.release(got[i])
		}
		if refs := routerOpen(r)["target.example"]; refs != 0 {
			t.Fatalf("round %d: %d references after release", round, refs)
		}
	}
}

// TestRouterDeleteDomainWhileOpening races DeleteDomain with a first use
// of the same domain (a delivery arriving while an admin deletes the
// domain). Whatever the order: DeleteDomain either refuses (in use) or
// removes the whole directory, and once it has succeeded and the other call
// has returned, the router holds no tenant for the domain. A tenant left
// behind points at a deleted file: its writes are lost, and after the
// domain is added again its writer and its (lazily opened) readers use
// different files.
func TestRouterDeleteDomainWhileOpening(t *testing.T) {
	s, r := routerStore(t, func(o *Options) { o.MaxOpenDomains = 1 })
	ctx := context.Background()
	check(t, s.AddDomain(ctx, "other.example"))
	const d = "racy.example"
	dir := r.domainDir(d)
	const rounds = 200
	var problems []string
	for round := range rounds {
		if _, err := os.Stat(filepath.Join(dir, "letterbox.db")); err != nil {
			check(t, s.AddDomain(ctx, d))
		}
		newAccount(t, s, fmt.Sprintf("old%d@%s", round, d))
		tn, err := r.acquire(ctx, "other.example") // closes racy.example (max 1 open)
		check(t, err)
		r.release(tn)
		if _, open := routerOpen(r)[d]; open {
			t.Fatalf("round %d: %s still open", round, d)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Accounts(ctx, d) // any error is fine: the domain is going away
		}()
		time.Sleep(time.Duration(round%16) * 100 * time.Microsecond)
		var derr error
		for {
			derr = s.DeleteDomain(ctx, d)
			if derr == nil || !strings.Contains(derr.Error(), "in use") {
				break
			}
			time.Sleep(100 * time.Microsecond) // in use: try again
		}
		<-done
		problem := ""
		_, stale := routerOpen(r)[d]
		left, _ := os.ReadDir(dir)
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		switch {
		case derr != nil:
			problem = fmt.Sprintf("DeleteDomain failed: %v; directory left holding %v; router holds a tenant: %v", derr, names, stale)
		case stale:
			problem = fmt.Sprintf("DeleteDomain succeeded but the router still holds a tenant for %s (files left: %v)", d, names)
		case len(left) > 0:
			problem = fmt.Sprintf("DeleteDomain succeeded but left %v", names)
		}
		if problem != "" {
			problems = append(problems, fmt.Sprintf("round %d: %s", round, problem))
			// Clean up by hand for the next round: evict the stale tenant,
			// remove what is left.
			tn, err := r.acquire(ctx, "other.example")
			check(t, err)
			r.release(tn)
			check(t, os.RemoveAll(dir))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%d of %d rounds went wrong; the first ones:\n%s", len(problems), rounds, strings.Join(problems[:min(len(problems), 8)], "\n"))
	}
}
