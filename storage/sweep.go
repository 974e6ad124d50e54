package storage

import (
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SweepStats says what one Sweep removed.
type SweepStats struct {
	Blobs     int // unreferenced blobs deleted
	Orphans   int // blob files no row named (a crash between write and commit)
	Vanished  int // expunge tombstones pruned
	Tracking  int // expired Sieve tracking entries (duplicate ids, vacation replies)
	Databases int
}

// Sweep removes blobs unreferenced for longer than the grace period, blob
// files that no row names and that are older than the grace period,
// expired Sieve tracking entries (see SieveTrack), and expunge tombstones
// older than VanishedKeep (raising each mailbox's floor, below which
// QRESYNC clients must resynchronise in full).
func (s *Store) Sweep(ctx context.Context) (SweepStats, error) {
	var st SweepStats
	domains, err := s.Domains(ctx)
	if err != nil {
		return st, err
	}
	if _, ok := s.router.(*pgRouter); ok {
		domains = []string{"localhost"} // one database holds every domain
	}
	for _, d := range domains {
		err := s.withTenant(ctx, d, func(t *tenant) error {
			st.Databases++
			return s.sweepTenant(ctx, t, &st)
		})
		if err != nil {
			return st, fmt.Errorf("sweep %s: %w", d, err)
		}
	}
	return st, nil
}

func (s *Store) sweepTenant(ctx context.Context, t *tenant, st *SweepStats) error {
	now := time.Now()
	cutoff := now.Add(-s.opts.BlobGrace).Unix()
	for {
		n := 0
		err := t.write(ctx, func(tx *txn) error {
			n = 0
			rows, err := tx.Query(`SELECT id, hash, size, compression, in_file FROM blobs
				WHERE refs <= 0 AND unref_since < $1 LIMIT 500`, cutoff)
			if err != nil {
				return err
			}
			var vs []blobLoc
			for rows.Next() {
				var v blobLoc
				if err := rows.Scan(&v.id, &v.hash, &v.size, &v.compression, &v.inFile); err != nil {
					rows.Close()
					return err
				}
				vs = append(vs, v)
			}
			rows.Close()
			for _, v := range vs {
				// The row is locked (PostgreSQL) or the writer is ours (SQLite):
				// an append reviving it waits, then finds the content gone and
				// writes it again (see blobBackend.ensureTx).
				if err := s.blobs.removeTx(tx, t, v); err != nil {
					return err
				}
				if _, err := tx.Exec(`DELETE FROM blobs WHERE id = $1 AND refs <= 0`, v.id); err != nil {
					return err
				}
			}
			n = len(vs)
			return nil
		})
		if err != nil {
			return err
		}
		st.Blobs += n
		if n < 500 {
			break
		}
	}
	if err := s.sweepOrphans(ctx, t, now.Add(-s.opts.BlobGrace), st); err != nil {
		return err
	}
	n, err := sweepSieveTracking(ctx, t, now)
	st.Tracking += n
	if err != nil {
		return err
	}
	keep := now.Add(-s.opts.VanishedKeep).Unix()
	return t.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(`UPDATE mailboxes SET vanished_floor = (SELECT MAX(v.modseq) FROM vanished v
			WHERE v.mailbox_id = mailboxes.id AND v.expunged < $1)
			WHERE id IN (SELECT mailbox_id FROM vanished WHERE expunged < $1)`, keep); err != nil {
			return err
		}
		res, err := tx.Exec(`DELETE FROM vanished WHERE expunged < $1`, keep)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		st.Vanished += int(n)
		return nil
	})
}

// sweepOrphans removes blob files older than before that no row names, and
// temporary files a crash left. A file is named only by a row whose content
// is in a file (blobBackend.inFileRows): a blob stored in the database
// first and staged as a file later (a larger threshold then, or the same
// content again after the threshold was lowered) leaves an orphan.
func (s *Store) sweepOrphans(ctx context.Context, t *tenant, before time.Time, st *SweepStats) error {
	if t.blobDir == "" {
		return nil
	}
	named := `SELECT COUNT(*) FROM blobs WHERE hash = $1 AND ` + s.blobs.inFileRows()
	err := filepath.WalkDir(t.blobDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.ModTime().After(before) {
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, "tmp-") {
			if os.Remove(path) == nil {
				st.Orphans++
			}
			return nil
		}
		hash, herr := hex.DecodeString(strings.TrimSuffix(name, ".zst"))
		if herr != nil || len(hash) != 32 {
			return nil // not ours
		}
		// A file a row names stays: a read says so, without taking the
		// writer for each of a domain's large messages every sweep.
		var kept int
		if err := t.db.QueryRowContext(ctx, named, hash).Scan(&kept); err != nil || kept > 0 {
			return err
		}
		// Check again and remove inside a write transaction, so that an
		// append that is reviving this blob either committed before (the
		// row is there) or finds the file gone and writes it again.
		return t.write(ctx, func(tx *txn) error {
			if t.dialect.lockBlobs != "" {
				if _, err := tx.Exec(t.dialect.lockBlobs); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRow(named, hash).Scan(&n); err != nil {
				return err
			}
			if n == 0 && os.Remove(path) == nil {
				st.Orphans++
			}
			return nil
		})
	})
	return err
}
