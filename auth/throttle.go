package auth

import (
	"sync"
	"time"
)

// Throttle slows down and then refuses logins after failures, per client
// IP and per account, for every protocol alike (IMAP, POP3, ManageSieve).
// A failure doubles the delay the next attempt waits (from Base up to Max);
// after Limit failures in Window the key is refused until Window passes.
// Success clears the account's record, not the IP's: one user who knows
// their password does not unlock an address that is guessing others'.
type Throttle struct {
	Base   time.Duration
	Max    time.Duration
	Limit  int
	Window time.Duration

	mu   sync.Mutex
	keys map[string]*failures
	now  func() time.Time
}

type failures struct {
	count int
	first time.Time
	last  time.Time
}

// NewThrottle returns a Throttle with the defaults: 250 ms doubling to 8 s,
// 20 failures in 15 minutes lock the key out.
func NewThrottle() *Throttle {
	return &Throttle{Base: 250 * time.Millisecond, Max: 8 * time.Second, Limit: 20, Window: 15 * time.Minute,
		keys: map[string]*failures{}, now: time.Now}
}

// Check says how long a login attempt from ip for account must wait first,
// and whether it is refused outright.
func (t *Throttle) Check(ip, account string) (wait time.Duration, refused bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []string{"ip:" + ip, "acct:" + account} {
		f := t.live(k)
		if f == nil {
			continue
		}
		if f.count >= t.Limit {
			return 0, true
		}
		d := t.Base << min(f.count-1, 16)
		wait = max(wait, min(d, t.Max))
	}
	return wait, false
}

// Failed records a failed attempt.
func (t *Throttle) Failed(ip, account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range []string{"ip:" + ip, "acct:" + account} {
		f := t.live(k)
		if f == nil {
			f = &failures{first: now}
			t.keys[k] = f
		}
		f.count++
		f.last = now
	}
	if len(t.keys) > 100000 {
		t.prune(now)
	}
}

// Succeeded clears the account's failures.
func (t *Throttle) Succeeded(ip, account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, "acct:"+account)
}

// live returns the record for k unless its window has passed.
func (t *Throttle) live(k string) *failures {
	f := t.keys[k]
	if f != nil && t.now().Sub(f.first) > t.Window {
		delete(t.keys, k)
		return nil
	}
	return f
}

func (t *Throttle) prune(now time.Time) {
	for k, f := range t.keys {
		if now.Sub(f.first) > t.Window {
			delete(t.keys, k)
		}
	}
}
