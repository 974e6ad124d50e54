package auth

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// Cache remembers successful password verifications for a while, so that a
// client that logs in again and again (a phone polling every minute, a
// webmail opening a connection per request) does not pay a slow hash such
// as argon2id each time.
//
// It never holds a password. Each account has at most one entry holding two
// HMAC-SHA256 values computed with a random key made by NewCache and kept
// only in memory: one over the account and its stored hash, one over the
// account, the stored hash and the password that verified. A lookup hits only
// when both match, the entry has not expired and it has not been evicted.
// Because the stored hash is part of the key, changing a password (which
// changes the stored hash) makes old entries miss, and such a stale entry is
// dropped at its next lookup. Entries expire ttl after they were added, and
// the least recently used are evicted beyond maxEntries.
//
// A nil *Cache, or one made with ttl <= 0 or maxEntries <= 0, caches
// nothing. A Cache is safe for concurrent use.
type Cache struct {
	ttl        time.Duration
	maxEntries int
	key        [32]byte
	now        func() time.Time // replaced in tests

	mu      sync.Mutex
	entries map[string]*list.Element // account -> element holding *cacheEntry
	lru     *list.List               // front: most recently used
}

type cacheEntry struct {
	account   string
	storedMAC [sha256.Size]byte
	pwMAC     [sha256.Size]byte
	expires   time.Time
}

// NewCache returns a cache whose entries live for ttl and which holds at
// most maxEntries accounts.
func NewCache(ttl time.Duration, maxEntries int) *Cache {
	c := &Cache{
		ttl:        ttl,
		maxEntries: maxEntries,
		now:        time.Now,
		entries:    make(map[string]*list.Element),
		lru:        list.New(),
	}
	// crypto/rand.Read does not fail (it aborts the program if the system
	// has no randomness to give).
	_, _ = rand.Read(c.key[:])
	return c
}

func (c *Cache) disabled() bool {
	return c == nil || c.ttl <= 0 || c.maxEntries <= 0
}

// macs computes the entry's two HMACs. Fields are length-prefixed so that
// no two different inputs share an encoding.
func (c *Cache) macs(account, password, storedHash string) (stored, pw [sha256.Size]byte) {
	m := hmac.New(sha256.New, c.key[:])
	writeField(m, "letterbox auth cache v1: stored")
	writeField(m, account)
	writeField(m, storedHash)
	m.Sum(stored[:0])

	m.Reset()
	writeField(m, "letterbox auth cache v1: password")
	writeField(m, account)
	writeField(m, storedHash)
	writeField(m, password)
	m.Sum(pw[:0])
	return stored, pw
}

func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// Lookup reports whether password was verified against storedHash for
// account within the last ttl.
func (c *Cache) Lookup(account string, password string, storedHash string) bool {
	if c.disabled() {
		return false
	}
	storedMAC, pwMAC := c.macs(account, password, storedHash)
	now := c.now()

	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[account]
	if !ok {
		return false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) || subtle.ConstantTimeCompare(e.storedMAC[:], storedMAC[:]) != 1 {
		// Expired, or the stored hash changed: the entry can never hit
		// again.
		c.removeLocked(el)
		return false
	}
	if subtle.ConstantTimeCompare(e.pwMAC[:], pwMAC[:]) != 1 {
		// A wrong password: keep the entry for the right one.
		return false
	}
	c.lru.MoveToFront(el)
	return true
}

// Add records that password verified against storedHash for account. Call
// it only after a successful verification.
func (c *Cache) Add(account string, password string, storedHash string) {
	if c.disabled() {
		return
	}
	storedMAC, pwMAC := c.macs(account, password, storedHash)
	expires := c.now().Add(c.ttl)

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[account]; ok {
		e := el.Value.(*cacheEntry)
		e.storedMAC, e.pwMAC, e.expires = storedMAC, pwMAC, expires
		c.lru.MoveToFront(el)
		return
	}
	c.entries[account] = c.lru.PushFront(&cacheEntry{
		account:   account,
		storedMAC: storedMAC,
		pwMAC:     pwMAC,
		expires:   expires,
	})
	for c.lru.Len() > c.maxEntries {
		c.removeLocked(c.lru.Back())
	}
}

// Invalidate forgets account's entry, for example when its password is
// changed or the account is disabled.
func (c *Cache) Invalidate(account string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[account]; ok {
		c.removeLocked(el)
	}
}

// Len returns the number of entries, expired ones not yet dropped included.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *Cache) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.entries, e.account)
}

// Verifier checks passwords through a Cache. The zero Verifier (no Cache)
// verifies every time.
type Verifier struct {
	Cache *Cache
}

// Verify reports whether password matches storedHash for account: a cache
// hit, or else VerifyPassword, whose successes are added to the cache.
// Failures and errors are never cached.
func (v Verifier) Verify(account, storedHash, password string) (bool, error) {
	if v.Cache.Lookup(account, password, storedHash) {
		return true, nil
	}
	ok, err := VerifyPassword(storedHash, password)
	if err != nil || !ok {
		return false, err
	}
	v.Cache.Add(account, password, storedHash)
	return true, nil
}
