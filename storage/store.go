package storage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Store. Zero values take the defaults.
type Options struct {
	Backend     string // "sqlite" (default) or "postgres"
	DataDir     string // SQLite files, blob files, spool; default ./letterbox-data
	PostgresURL string
	BlobBackend string // "sql" or "file"; default "sql" for SQLite, "file" for PostgreSQL
	Compression string // "none" (default) or "zstd"
	// BlobFileMinSize: with BlobBackend "sql", a message of at least this
	// many bytes is kept in a file under the data directory instead of in
	// the database. 0 keeps every message in the database; the
	// configuration's default (storage.blob_file_min_size) is 256 KiB.
	BlobFileMinSize int64
	MaxOpenDomains  int // SQLite: domain files kept open; default 256
	IdleClose       time.Duration
	BlobGrace       time.Duration // unreferenced blobs are kept this long; default 1h
	VanishedKeep    time.Duration // expunge tombstones are kept this long; default 30 days
	MaxMessageSize  int64         // default 50 MiB
	Logger          *slog.Logger
}

func (o *Options) setDefaults() error {
	if o.Backend == "" {
		o.Backend = "sqlite"
	}
	if o.DataDir == "" {
		o.DataDir = "letterbox-data"
	}
	if o.BlobBackend == "" {
		o.BlobBackend = "sql"
		if o.Backend == "postgres" {
			o.BlobBackend = "file"
		}
	}
	if o.Compression == "" {
		o.Compression = "none"
	}
	if o.MaxOpenDomains <= 0 {
		o.MaxOpenDomains = 256
	}
	if o.IdleClose <= 0 {
		o.IdleClose = 10 * time.Minute
	}
	if o.BlobGrace <= 0 {
		o.BlobGrace = time.Hour
	}
	if o.VanishedKeep <= 0 {
		o.VanishedKeep = 30 * 24 * time.Hour
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 50 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.Backend != "sqlite" && o.Backend != "postgres":
		return fmt.Errorf("storage backend %q: must be sqlite or postgres", o.Backend)
	case o.Backend == "postgres" && o.PostgresURL == "":
		return fmt.Errorf("storage backend postgres needs a PostgreSQL URL")
	case o.BlobBackend != "sql" && o.BlobBackend != "file":
		return fmt.Errorf("blob backend %q: must be sql or file", o.BlobBackend)
	case o.Compression != "none" && o.Compression != "zstd":
		return fmt.Errorf("compression %q: must be none or zstd", o.Compression)
	case o.BlobFileMinSize < 0:
		return fmt.Errorf("blob file min size %d: must not be negative", o.BlobFileMinSize)
	}
	return nil
}

// Store is the storage of one Letterbox installation.
type Store struct {
	opts   Options
	router router
	blobs  blobBackend
	hub    *hub
	log    *slog.Logger
	pg     *pgNotifier // PostgreSQL: wake-ups between nodes
	// sieveGen counts Sieve script writes (SieveGeneration).
	sieveGen atomic.Uint64

	closeOnce sync.Once
}

// Open opens (creating if needed) the storage described by opts and brings
// its schema up to date.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	s := &Store{opts: opts, hub: newHub(), log: opts.Logger}
	if err := os.MkdirAll(filepath.Join(opts.DataDir, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	var err error
	switch opts.Backend {
	case "sqlite":
		s.router, err = newSQLiteRouter(opts.DataDir, opts.MaxOpenDomains, opts.IdleClose)
	case "postgres":
		s.router, err = newPGRouter(ctx, opts.PostgresURL, filepath.Join(opts.DataDir, "blobs"))
	}
	if err != nil {
		return nil, err
	}
	if r, ok := s.router.(*pgRouter); ok {
		s.pg = startPGNotifier(r.t.db, opts.PostgresURL, s.hub, s.log)
	}
	compress := opts.Compression == "zstd"
	if opts.BlobBackend == "file" {
		s.blobs = &fileBlobs{compress: compress}
	} else {
		s.blobs = newSQLBlobs(compress, opts.BlobFileMinSize)
	}
	return s, nil
}

// Close finishes the writes in flight and closes every database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.pg != nil {
			s.pg.stop()
		}
		err = s.router.close()
	})
	return err
}

// Backend names the SQL backend in use.
func (s *Store) Backend() string { return s.opts.Backend }

// notify wakes the watchers of the given mailboxes, here and (PostgreSQL)
// on the other nodes. Call it after the commit.
func (s *Store) notify(domain string, mailboxes ...int64) {
	s.hub.notify(domain, mailboxes...)
	if s.pg != nil {
		s.pg.publish(domain, mailboxes)
	}
}

// withTenant runs fn with the tenant holding domain.
func (s *Store) withTenant(ctx context.Context, domain string, fn func(t *tenant) error) error {
	t, err := s.router.acquire(ctx, domain)
	if err != nil {
		return err
	}
	defer s.router.release(t)
	return fn(t)
}

// splitLogin splits and normalises user@domain. Local parts match
// case-insensitively, so they are kept in lower case.
func splitLogin(login string) (name, domain string, err error) {
	login = strings.ToLower(strings.TrimSpace(login))
	local, domain, ok := strings.Cut(login, "@")
	if !ok || local == "" || strings.ContainsAny(local, "@ \t\r\n\x00/\\") || len(login) > 320 {
		return "", "", fmt.Errorf("%w: login %q must be user@domain", ErrInvalidName, login)
	}
	if err := validDomain(domain); err != nil {
		return "", "", err
	}
	return local + "@" + domain, domain, nil
}
