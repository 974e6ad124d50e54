package storage

import (
	"context"
	"strings"
	"testing"
	"time"
)

// t0 is a fixed "now" for the tracking tests.
var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func seen(t *testing.T, s *Store, a *Account, kind, key string, now time.Time) bool {
	t.Helper()
	ok, err := s.SieveSeen(context.Background(), a, kind, key, now)
	if err != nil {
		t.Fatalf("SieveSeen(%s, %q): %v", kind, key, err)
	}
	return ok
}

func TestSieveTracking(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")

		// Unseen until tracked.
		if seen(t, s, a, "duplicate", "<m1@example.org>", t0) {
			t.Fatal("seen before tracking")
		}
		check(t, s.SieveTrack(ctx, a, "duplicate", "<m1@example.org>", t0.Add(time.Hour)))
		if !seen(t, s, a, "duplicate", "<m1@example.org>", t0) {
			t.Fatal("not seen after tracking")
		}
		if !seen(t, s, a, "duplicate", "<m1@example.org>", t0.Add(time.Hour-time.Millisecond)) {
			t.Error("not seen just before expiry")
		}
		// Expired at the expiry time and after it, even before the sweep.
		if seen(t, s, a, "duplicate", "<m1@example.org>", t0.Add(time.Hour)) {
			t.Error("seen at the expiry time")
		}
		if seen(t, s, a, "duplicate", "<m1@example.org>", t0.Add(2*time.Hour)) {
			t.Error("seen after expiry")
		}

		// Keys are exact: another key, another case, another kind are unseen.
		for _, k := range []struct{ kind, key string }{
			{"duplicate", "<m2@example.org>"},
			{"duplicate", "<M1@example.org>"},
			{"duplicate", "<m1@example.org> "},
			{"vacation", "<m1@example.org>"},
		} {
			if seen(t, s, a, k.kind, k.key, t0) {
				t.Errorf("%s %q seen", k.kind, k.key)
			}
		}

		// Upsert: tracking again extends, and never shortens.
		check(t, s.SieveTrack(ctx, a, "duplicate", "<m1@example.org>", t0.Add(3*time.Hour)))
		if !seen(t, s, a, "duplicate", "<m1@example.org>", t0.Add(2*time.Hour)) {
			t.Error("not extended")
		}
		check(t, s.SieveTrack(ctx, a, "duplicate", "<m1@example.org>", t0.Add(time.Minute)))
		if !seen(t, s, a, "duplicate", "<m1@example.org>", t0.Add(2*time.Hour)) {
			t.Error("shortened by an earlier expiry")
		}
		// An entry that expired (not yet swept) is revived by tracking again.
		check(t, s.SieveTrack(ctx, a, "vacation", "alice@example.org", t0.Add(-time.Hour)))
		if seen(t, s, a, "vacation", "alice@example.org", t0) {
			t.Error("entry tracked in the past is seen")
		}
		check(t, s.SieveTrack(ctx, a, "vacation", "alice@example.org", t0.Add(24*time.Hour)))
		if !seen(t, s, a, "vacation", "alice@example.org", t0) {
			t.Error("expired entry not revived")
		}

		// Sub-millisecond expiries are rounded up, never down.
		check(t, s.SieveTrack(ctx, a, "vacation", "round@example.org", t0.Add(time.Microsecond)))
		if !seen(t, s, a, "vacation", "round@example.org", t0) {
			t.Error("expiry 1µs after now: not seen at now")
		}

		// Long and odd keys are fine (they are hashed): a 64 KiB key, an
		// empty one, NUL, invalid UTF-8.
		long := strings.Repeat("x", 64<<10)
		for _, key := range []string{long, "", "a\x00b", "\xff\xfe"} {
			check(t, s.SieveTrack(ctx, a, "duplicate", key, t0.Add(time.Hour)))
			if !seen(t, s, a, "duplicate", key, t0) {
				t.Errorf("key of %d bytes not seen", len(key))
			}
		}
		if seen(t, s, a, "duplicate", long[1:], t0) {
			t.Error("a prefix of a long key is seen")
		}

		// Bad kinds are refused, by both calls.
		for _, kind := range []string{"", "two words", strings.Repeat("k", 65), "dup\n"} {
			_, err := s.SieveSeen(ctx, a, kind, "k", t0)
			wantErr(t, err, ErrInvalidName)
			wantErr(t, s.SieveTrack(ctx, a, kind, "k", t0.Add(time.Hour)), ErrInvalidName)
		}
	})
}

func TestSieveTrackingIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		bob := newAccount(t, s, "bob@example.com")
		carol := newAccount(t, s, "carol@example.com")
		// Another domain: on SQLite another file, whose account ids start
		// at 1 again, so ids alone would collide.
		dave := newAccount(t, s, "dave@example.net")

		check(t, s.SieveTrack(ctx, bob, "vacation", "alice@example.org", t0.Add(time.Hour)))
		if !seen(t, s, bob, "vacation", "alice@example.org", t0) {
			t.Fatal("bob: not seen")
		}
		if seen(t, s, carol, "vacation", "alice@example.org", t0) {
			t.Error("carol sees bob's entry")
		}
		if seen(t, s, dave, "vacation", "alice@example.org", t0) {
			t.Error("dave (other domain) sees bob's entry")
		}
		check(t, s.SieveTrack(ctx, dave, "vacation", "alice@example.org", t0.Add(time.Minute)))
		if !seen(t, s, bob, "vacation", "alice@example.org", t0.Add(30*time.Minute)) {
			t.Error("dave's shorter entry changed bob's")
		}
	})
}

func TestSieveTrackingAccountDeleted(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		bob := newAccount(t, s, "bob@example.com")
		check(t, s.SieveTrack(ctx, bob, "duplicate", "<m1@example.org>", t0.Add(time.Hour)))
		check(t, s.SieveTrack(ctx, bob, "vacation", "alice@example.org", t0.Add(time.Hour)))
		check(t, s.DeleteAccount(ctx, "bob@example.com"))

		// Tracking for the deleted account is refused, not orphaned.
		wantErr(t, s.SieveTrack(ctx, bob, "duplicate", "<m2@example.org>", t0.Add(time.Hour)), ErrNotFound)

		// The rows went with the account: a new account with the same name
		// (and, on SQLite, maybe the same id) starts with nothing.
		bob2 := newAccount(t, s, "bob@example.com")
		if seen(t, s, bob2, "duplicate", "<m1@example.org>", t0) || seen(t, s, bob2, "vacation", "alice@example.org", t0) {
			t.Error("new account sees the deleted account's entries")
		}
		if n := countTracking(t, s, "example.com"); n != 0 {
			t.Errorf("%d tracking rows left after the account was deleted", n)
		}
	})
}

func TestSieveTrackingSweep(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		bob := newAccount(t, s, "bob@example.com")
		dave := newAccount(t, s, "dave@example.net")
		now := time.Now()
		for _, a := range []*Account{bob, dave} {
			check(t, s.SieveTrack(ctx, a, "duplicate", "old", now.Add(-time.Hour)))
			check(t, s.SieveTrack(ctx, a, "vacation", "old@example.org", now.Add(-time.Second)))
			check(t, s.SieveTrack(ctx, a, "duplicate", "new", now.Add(time.Hour)))
			check(t, s.SieveTrack(ctx, a, "vacation", "new@example.org", now.Add(24*time.Hour)))
		}
		st := must[SweepStats](t)(s.Sweep(ctx))
		if st.Tracking != 4 {
			t.Errorf("swept %d tracking entries, want 4", st.Tracking)
		}
		for _, a := range []*Account{bob, dave} {
			if !seen(t, s, a, "duplicate", "new", now) || !seen(t, s, a, "vacation", "new@example.org", now) {
				t.Errorf("%s: sweep removed an unexpired entry", a.Name)
			}
		}
		if n := countTracking(t, s, "example.com") + countTracking(t, s, "example.net"); n != 4 {
			t.Errorf("%d rows left, want 4", n)
		}
		st = must[SweepStats](t)(s.Sweep(ctx))
		if st.Tracking != 0 {
			t.Errorf("second sweep removed %d", st.Tracking)
		}
	})
}

// TestSieveTrackingSweepBatches sweeps more expired rows than one batch.
func TestSieveTrackingSweepBatches(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		bob := newAccount(t, s, "bob@example.com")
		past := time.Now().Add(-time.Minute)
		const n = sweepBatch*2 + 7
		err := s.withTenant(ctx, bob.Domain, func(tn *tenant) error {
			return tn.write(ctx, func(tx *txn) error {
				for i := range n {
					if _, err := tx.Exec(`INSERT INTO sieve_tracking (account_id, kind, key_hash, expires_ms) VALUES ($1, $2, $3, $4)`,
						bob.ID, "duplicate", sieveKeyHash(strings.Repeat("k", i)), past.UnixMilli()); err != nil {
						return err
					}
				}
				return nil
			})
		})
		check(t, err)
		check(t, s.SieveTrack(ctx, bob, "duplicate", "keep", time.Now().Add(time.Hour)))
		st := must[SweepStats](t)(s.Sweep(ctx))
		if st.Tracking != n {
			t.Errorf("swept %d, want %d", st.Tracking, n)
		}
		if got := countTracking(t, s, "example.com"); got != 1 {
			t.Errorf("%d rows left, want 1", got)
		}
	})
}

func countTracking(t *testing.T, s *Store, domain string) int {
	t.Helper()
	var n int
	err := s.withTenant(context.Background(), domain, func(tn *tenant) error {
		// PostgreSQL holds every domain in one table: count this domain's.
		return tn.db.QueryRow(`SELECT COUNT(*) FROM sieve_tracking
			WHERE account_id IN (SELECT id FROM accounts WHERE domain = $1)`, domain).Scan(&n)
	})
	check(t, err)
	return n
}

// BenchmarkSieveSeen measures the lookup every delivery with a duplicate
// test or a vacation action makes.
func BenchmarkSieveSeen(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, be.opts(b))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			a := newAccount(b, s, "bob@example.com")
			for i := range 1000 {
				if err := s.SieveTrack(ctx, a, "duplicate", strings.Repeat("m", i), time.Now().Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
			}
			now := time.Now()
			for i := 0; b.Loop(); i++ {
				if _, err := s.SieveSeen(ctx, a, "duplicate", strings.Repeat("m", i%2000), now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
