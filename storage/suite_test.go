package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"testing"
)

// The tests in this package are the storage conformance suite: each runs
// against every backend (SQLite always; PostgreSQL when LETTERBOX_TEST_PG
// names a database) and defines what correct behaviour is.

type backend struct {
	name string
	opts func(t testing.TB) Options
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t testing.TB) Options {
			return Options{Backend: "sqlite", DataDir: t.TempDir()}
		}},
		{"postgres", func(t testing.TB) Options {
			return Options{Backend: "postgres", DataDir: t.TempDir(), PostgresURL: pgSchema(t)}
		}},
	}
}

// pgSchema makes a fresh schema for one test and returns a URL that uses it.
func pgSchema(t testing.TB) string {
	base := os.Getenv("LETTERBOX_TEST_PG")
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set LETTERBOX_TEST_PG=postgres://user@host/db to run them")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "lbtest_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// eachBackend runs f as a subtest on every backend with a fresh store.
func eachBackend(t *testing.T, f func(t *testing.T, s *Store)) {
	t.Helper()
	eachBackendOpts(t, nil, f)
}

func eachBackendOpts(t *testing.T, tweak func(*Options), f func(t *testing.T, s *Store)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			opts := b.opts(t)
			if tweak != nil {
				tweak(&opts)
			}
			s, err := Open(context.Background(), opts)
			if err != nil {
				t.Fatalf("open %s: %v", b.name, err)
			}
			t.Cleanup(func() { s.Close() })
			f(t, s)
		})
	}
}

// newAccount makes domain and account in s.
func newAccount(t testing.TB, s *Store, login string) *Account {
	t.Helper()
	ctx := context.Background()
	_, domain, err := splitLogin(login)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddDomain(ctx, domain); err != nil && !errors.Is(err, ErrExists) {
		t.Fatal(err)
	}
	a, err := s.CreateAccount(ctx, login, "{PLAIN}secret", 0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustMailbox(t testing.TB, s *Store, a *Account, name string) *Mailbox {
	t.Helper()
	m, err := s.Mailbox(context.Background(), a, name)
	if err != nil {
		t.Fatalf("mailbox %s: %v", name, err)
	}
	return m
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// testMessage builds a small message with a given subject and body.
func testMessage(subject, body string) string {
	return "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: " + subject +
		"\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <" + subject + "@example.org>\r\n\r\n" + body + "\r\n"
}
