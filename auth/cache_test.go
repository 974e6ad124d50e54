package auth

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable time source for Cache.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func newTestCache(ttl time.Duration, max int) (*Cache, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	c := NewCache(ttl, max)
	c.now = clock.now
	return c, clock
}

func TestCacheHitMiss(t *testing.T) {
	c, _ := newTestCache(time.Minute, 10)
	const acct, pw, hash = "alice@example.org", "s3cret", "{PLAIN}s3cret"
	if c.Lookup(acct, pw, hash) {
		t.Fatal("hit on an empty cache")
	}
	c.Add(acct, pw, hash)
	if !c.Lookup(acct, pw, hash) {
		t.Fatal("miss right after Add")
	}
	if c.Lookup(acct, "wrong", hash) {
		t.Fatal("hit with a wrong password")
	}
	if !c.Lookup(acct, pw, hash) {
		t.Fatal("a wrong password evicted the right one")
	}
	if c.Lookup("bob@example.org", pw, hash) {
		t.Fatal("hit for another account")
	}
	if c.Len() != 1 {
		t.Fatalf("Len = %d, want 1", c.Len())
	}
}

func TestCacheExpiry(t *testing.T) {
	c, clock := newTestCache(time.Minute, 10)
	c.Add("a", "pw", "h")
	clock.advance(59 * time.Second)
	if !c.Lookup("a", "pw", "h") {
		t.Fatal("miss before ttl")
	}
	// A hit does not extend the entry's life: ttl bounds how long a
	// verification stands without being redone.
	clock.advance(time.Second)
	if c.Lookup("a", "pw", "h") {
		t.Fatal("hit at ttl")
	}
	if c.Len() != 0 {
		t.Fatalf("expired entry not dropped: Len = %d", c.Len())
	}
	// Adding again (a fresh successful verification) renews it.
	c.Add("a", "pw", "h")
	clock.advance(30 * time.Second)
	c.Add("a", "pw", "h")
	clock.advance(45 * time.Second)
	if !c.Lookup("a", "pw", "h") {
		t.Fatal("re-Add did not renew the entry")
	}
}

func TestCacheInvalidate(t *testing.T) {
	c, _ := newTestCache(time.Minute, 10)
	c.Add("a", "pw", "h")
	c.Add("b", "pw", "h")
	c.Invalidate("a")
	c.Invalidate("nobody")
	if c.Lookup("a", "pw", "h") {
		t.Fatal("hit after Invalidate")
	}
	if !c.Lookup("b", "pw", "h") {
		t.Fatal("Invalidate removed another account")
	}
}

func TestCachePasswordChange(t *testing.T) {
	c, _ := newTestCache(time.Minute, 10)
	oldHash, newHash := "{PLAIN}old", "{PLAIN}new"
	c.Add("a", "old", oldHash)
	// The account's stored hash changed: the old password must not hit
	// against the new hash, and the stale entry is dropped.
	if c.Lookup("a", "old", newHash) {
		t.Fatal("old password hit against the new stored hash")
	}
	if c.Len() != 0 {
		t.Fatal("stale entry kept after the stored hash changed")
	}
	if c.Lookup("a", "old", oldHash) {
		t.Fatal("stale entry still answers")
	}
	c.Add("a", "new", newHash)
	if !c.Lookup("a", "new", newHash) {
		t.Fatal("miss for the new password")
	}
}

func TestCacheBounded(t *testing.T) {
	c, _ := newTestCache(time.Hour, 3)
	for _, a := range []string{"a", "b", "c"} {
		c.Add(a, "pw", "h")
	}
	c.Lookup("a", "pw", "h") // a is now the most recently used
	c.Add("d", "pw", "h")    // evicts b, the least recently used
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3", c.Len())
	}
	for a, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if got := c.Lookup(a, "pw", "h"); got != want {
			t.Errorf("Lookup(%s) = %v, want %v", a, got, want)
		}
	}
}

func TestCacheDisabled(t *testing.T) {
	var nilCache *Cache
	for name, c := range map[string]*Cache{
		"nil":          nilCache,
		"zero ttl":     NewCache(0, 10),
		"zero entries": NewCache(time.Minute, 0),
	} {
		c.Add("a", "pw", "h")
		if c.Lookup("a", "pw", "h") {
			t.Errorf("%s cache hit", name)
		}
		c.Invalidate("a")
		if c.Len() != 0 {
			t.Errorf("%s cache holds entries", name)
		}
	}
}

// TestCacheHoldsNoPassword looks through the cache's memory (its entries)
// for the password and the stored hash.
func TestCacheHoldsNoPassword(t *testing.T) {
	c := NewCache(time.Minute, 10)
	const pw, hash = "very-secret-password", "{PLAIN}very-secret-password"
	c.Add("a", pw, hash)
	for el := c.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*cacheEntry)
		// Every field of cacheEntry; a new field must be added here.
		if n := reflect.TypeOf(*e).NumField(); n != 4 {
			t.Fatalf("cacheEntry has %d fields; check the new ones here", n)
		}
		for name, b := range map[string][]byte{
			"account": []byte(e.account), "storedMAC": e.storedMAC[:], "pwMAC": e.pwMAC[:],
		} {
			if bytes.Contains(b, []byte(pw)) || bytes.Contains(b, []byte(hash)) {
				t.Errorf("entry field %s holds the password or the stored hash", name)
			}
		}
	}
	// Two caches use different keys: their MACs for the same input differ.
	c2 := NewCache(time.Minute, 10)
	_, m1 := c.macs("a", pw, hash)
	_, m2 := c2.macs("a", pw, hash)
	if m1 == m2 {
		t.Error("two caches share an HMAC key")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(time.Minute, 16)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				acct := fmt.Sprintf("user%d", (g*7+i)%40)
				switch i % 5 {
				case 0, 1:
					c.Add(acct, "pw", "h")
				case 2, 3:
					c.Lookup(acct, "pw", "h")
				default:
					if i%50 == 4 {
						c.Invalidate(acct)
					} else {
						c.Lookup(acct, "wrong", "h")
					}
				}
				_ = c.Len()
			}
		}(g)
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Len() > 16 || c.lru.Len() != len(c.entries) {
		t.Fatalf("inconsistent cache: list %d, map %d, max 16", c.lru.Len(), len(c.entries))
	}
}

func TestVerifier(t *testing.T) {
	c, _ := newTestCache(time.Minute, 10)
	v := Verifier{Cache: c}
	const hash = "{SSHA256}" + "sM5bYbyOm/LWDwtqRx9BJg2+u0iTOz9LwV3GoJAQnMwyMDI0" // junk digest: nothing verifies

	// A wrong password and an error are not cached.
	if ok, err := v.Verify("a", "{PLAIN}right", "wrong"); ok || err != nil {
		t.Fatalf("wrong password: (%v, %v)", ok, err)
	}
	if _, err := v.Verify("a", "{NOPE}x", "x"); err == nil {
		t.Fatal("no error for an unknown scheme")
	}
	if ok, _ := v.Verify("a", hash, "x"); ok {
		t.Fatal("junk hash verified")
	}
	if c.Len() != 0 {
		t.Fatalf("failures were cached: Len = %d", c.Len())
	}

	// A success is cached, and the cache then answers.
	if ok, err := v.Verify("a", "{PLAIN}right", "right"); !ok || err != nil {
		t.Fatalf("right password: (%v, %v)", ok, err)
	}
	if !c.Lookup("a", "right", "{PLAIN}right") {
		t.Fatal("success not cached")
	}
	if ok, err := v.Verify("a", "{PLAIN}right", "right"); !ok || err != nil {
		t.Fatalf("cached right password: (%v, %v)", ok, err)
	}
	// A password change: the new hash misses and is verified afresh.
	if ok, _ := v.Verify("a", "{PLAIN}changed", "right"); ok {
		t.Fatal("old password accepted after the stored hash changed")
	}

	// The zero Verifier verifies without a cache.
	if ok, err := (Verifier{}).Verify("a", "{PLAIN}right", "right"); !ok || err != nil {
		t.Fatalf("zero Verifier: (%v, %v)", ok, err)
	}
}

func TestVerifierConcurrent(t *testing.T) {
	v := Verifier{Cache: NewCache(time.Minute, 8)}
	hash := "{SSHA}" + "dQd/4Z6tO2Yl8GcoI6cvN1bqqLBzYWx0" // not a real password: all fail
	plain := "{PLAIN}open sesame"
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				acct := fmt.Sprintf("u%d", i%12)
				if ok, err := v.Verify(acct, plain, "open sesame"); !ok || err != nil {
					t.Errorf("Verify: (%v, %v)", ok, err)
					return
				}
				if ok, _ := v.Verify(acct, hash, "open sesame"); ok {
					t.Error("junk hash verified")
					return
				}
				if i%17 == 0 {
					v.Cache.Invalidate(acct)
				}
			}
		}(g)
	}
	wg.Wait()
	if n := v.Cache.Len(); n > 8 {
		t.Fatalf("Len = %d, above the bound", n)
	}
}
