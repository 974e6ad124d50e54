package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sieve tracking remembers, per account, what the account's scripts have
// already seen or answered, until an expiry time: the duplicate
// extension's ids (RFC 7352) and the vacation extension's replies per
// sender (RFC 5230 :days, RFC 6131 :seconds). Package sieve asks through
// its Tracker (SieveSeen) and the delivery side records once a delivery
// succeeded (SieveTrack). Sweep deletes expired entries.
//
// Keys are stored as their SHA-256, not as given. A key is whatever the
// script makes of a message (a Message-ID, a :uniqueid built from
// variables, a sender address with a :handle), so its length is the
// script's to choose; refusing long keys would turn a script's choice into
// a failed delivery or an untracked vacation reply (an auto-reply loop
// risk), and truncating them would make different keys collide. A hash
// accepts any key, keeps every row and index entry the same small size,
// and still answers the only question ever asked (exact equality). What is
// lost is reading the keys back, which nothing needs: Pigeonhole keeps
// hashes too. Keys are compared byte for byte; normalising them (such as
// the case of an address's domain) is the caller's job.

// maxSieveKind bounds a tracking kind ("duplicate", "vacation").
const maxSieveKind = 64

func validSieveKind(kind string) error {
	if kind == "" || len(kind) > maxSieveKind {
		return fmt.Errorf("%w: sieve tracking kind %q", ErrInvalidName, kind)
	}
	for i := 0; i < len(kind); i++ {
		if c := kind[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: sieve tracking kind %q: only printable ASCII without spaces", ErrInvalidName, kind)
		}
	}
	return nil
}

func sieveKeyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// expiryMillis turns an expiry time into the stored Unix milliseconds,
// rounded up, so that an entry never expires before the time asked for.
func expiryMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// SieveSeen reports whether a has an entry of kind for key that has not
// expired at now. It only reads.
func (s *Store) SieveSeen(ctx context.Context, a *Account, kind, key string, now time.Time) (bool, error) {
	if err := validSieveKind(kind); err != nil {
		return false, err
	}
	var seen bool
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		var one int
		err := t.db.QueryRowContext(ctx, `SELECT 1 FROM sieve_tracking
			WHERE account_id = $1 AND kind = $2 AND key_hash = $3 AND expires_ms > $4`,
			a.ID, kind, sieveKeyHash(key), now.UnixMilli()).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			seen = false
			return nil
		case err != nil:
			return err
		}
		seen = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sieve tracking %s: %w", kind, err)
	}
	return seen, nil
}

// SieveTrack records that a has seen key of kind until the given time. An
// existing entry is extended, never shortened: it keeps the later of its
// expiry and until.
func (s *Store) SieveTrack(ctx context.Context, a *Account, kind, key string, until time.Time) error {
	if err := validSieveKind(kind); err != nil {
		return err
	}
	hash, expires := sieveKeyHash(key), expiryMillis(until)
	err := s.withTenant(ctx, a.Domain, func(t *tenant) error {
		return t.write(ctx, func(tx *txn) error {
			if _, err := bumpModSeq(tx, a, 0); err != nil {
				return err
			}
			_, err := tx.Exec(`INSERT INTO sieve_tracking (account_id, kind, key_hash, expires_ms) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, kind, key_hash) DO UPDATE SET expires_ms =
				CASE WHEN excluded.expires_ms > sieve_tracking.expires_ms THEN excluded.expires_ms ELSE sieve_tracking.expires_ms END`,
				a.ID, kind, hash, expires)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("sieve tracking %s: %w", kind, err)
	}
	return nil
}

// sweepBatch bounds the rows one sweeping write deletes, so that the
// SQLite writer is never held for long.
const sweepBatch = 1000

// sweepSieveTracking deletes the entries expired at now, a batch per
// write, and returns how many it deleted.
func sweepSieveTracking(ctx context.Context, t *tenant, now time.Time) (int, error) {
	total := 0
	for {
		n := 0
		err := t.write(ctx, func(tx *txn) error {
			res, err := tx.Exec(`DELETE FROM sieve_tracking WHERE (account_id, kind, key_hash) IN
				(SELECT account_id, kind, key_hash FROM sieve_tracking WHERE expires_ms <= $1 LIMIT $2)`,
				now.UnixMilli(), sweepBatch)
			if err != nil {
				return err
			}
			m, err := res.RowsAffected()
			n = int(m)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sweep sieve tracking: %w", err)
		}
		total += n
		if n < sweepBatch {
			return total, nil
		}
	}
}
