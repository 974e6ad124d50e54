package storage

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"letterbox/migrations"
)

// applyMigrationsUpTo brings a fresh database to schema version n, as a
// program of that version would have.
func applyMigrationsUpTo(t *testing.T, db *sql.DB, d *dialect, n int) {
	t.Helper()
	ms, err := loadMigrations(d)
	check(t, err)
	_, err = db.Exec(`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)`)
	check(t, err)
	for _, m := range ms[:n] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		_, err := db.Exec(`INSERT INTO schema_migrations (version, applied) VALUES ($1, 0)`, m.version)
		check(t, err)
	}
}

// TestMigrateBlobIDs fills a database of schema 0003 with messages stored
// as that schema stored them (blob content keyed by hash, in chunks, some
// compressed, one blob shared, one unreferenced), opens it with this
// program (migration 0004: integer blob ids), and reads every message back
// byte for byte.
func TestMigrateBlobIDs(t *testing.T) {
	if _, err := fs.Stat(migrations.FS, "sqlite/0004_blob_ids.sql"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			opts := b.opts(t)
			opts.BlobBackend = "sql" // the content the migration moves
			var db *sql.DB
			var d *dialect
			var err error
			if opts.Backend == "sqlite" {
				dir := filepath.Join(opts.DataDir, "domains", "example.com")
				check(t, os.MkdirAll(dir, 0o750))
				db, err = sql.Open("sqlite3", "file:"+url.PathEscape(filepath.Join(dir, "letterbox.db"))+"?mode=rwc&_foreign_keys=on&_journal_mode=WAL")
				d = sqliteDialect
			} else {
				db, err = sql.Open("pgx", opts.PostgresURL)
				d = postgresDialect
			}
			check(t, err)
			defer db.Close()
			applyMigrationsUpTo(t, db, d, 3)

			// Parse the messages with a throwaway store, as Receive does.
			parser, err := Open(ctx, Options{Backend: "sqlite", DataDir: t.TempDir()})
			check(t, err)
			defer parser.Close()
			big := strings.Repeat("A line of a message that needs more than one chunk.\r\n", 3*chunkSize/50)
			texts := []string{
				testMessage("small", "hello"),
				testMessage("big", big),
				testMessage("compressed", strings.Repeat("squeeze me ", 1000)),
				testMessage("small", "hello"), // the first one again: its blob is shared
			}
			compressed := map[int]bool{2: true}

			var accountID, inboxID int64
			check(t, db.QueryRow(`INSERT INTO domains (name) VALUES ('example.com') RETURNING name`).Scan(new(string)))
			check(t, db.QueryRow(`INSERT INTO accounts (name, domain, password, modseq, uidvalidity, created)
				VALUES ('bob@example.com', 'example.com', '{PLAIN}secret', 10, 1, 0) RETURNING id`).Scan(&accountID))
			check(t, db.QueryRow(`INSERT INTO mailboxes (account_id, name, uidvalidity, uidnext, highest_modseq)
				VALUES ($1, 'INBOX', 1, 1, 1) RETURNING id`, accountID).Scan(&inboxID))

			// storeBlob writes a blobs row and its chunks as schema 0003 did.
			storeBlob := func(in *Incoming, refs int64, unrefSince any, comp int) {
				t.Helper()
				_, err := db.Exec(`INSERT INTO blobs (hash, size, refs, unref_since, compression, header, parsed)
					VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO UPDATE SET refs = blobs.refs + $3`,
					in.hash, in.size, refs, unrefSince, comp, in.header, in.enc)
				check(t, err)
				var have int
				check(t, db.QueryRow(`SELECT COUNT(*) FROM blob_chunks WHERE hash = $1`, in.hash).Scan(&have))
				if have > 0 {
					return
				}
				content := make([]byte, in.size)
				_, err = in.ReadAt(content, 0)
				check(t, err)
				for seq := 0; seq*chunkSize < len(content); seq++ {
					data := content[seq*chunkSize : min((seq+1)*chunkSize, len(content))]
					if comp == compressZstd {
						enc, _ := zstdCodec()
						data = enc.EncodeAll(data, nil)
					}
					_, err := db.Exec(`INSERT INTO blob_chunks (hash, seq, data) VALUES ($1, $2, $3)`, in.hash, seq, data)
					check(t, err)
				}
			}
			var size int64
			for i, text := range texts {
				in, err := parser.Receive(strings.NewReader(text))
				check(t, err)
				comp := compressNone
				if compressed[i] {
					comp = compressZstd
				}
				storeBlob(in, 1, nil, comp)
				uid := int64(i + 1)
				_, err = db.Exec(`INSERT INTO messages (mailbox_id, uid, account_id, modseq, internal_date, internal_tz,
					save_date, size, blob, seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
					inboxID, uid, accountID, uid+1, int64(1700000000+i), 60, int64(1700000000+i), in.size, in.hash, i%2 == 0)
				check(t, err)
				size += in.size
				in.Close()
			}
			// A blob no message names any more, waiting for the sweeper.
			gone, err := parser.Receive(strings.NewReader(testMessage("expunged", "bye")))
			check(t, err)
			storeBlob(gone, 0, time.Now().Add(-48*time.Hour).Unix(), compressNone)
			gone.Close()
			_, err = db.Exec(`UPDATE mailboxes SET uidnext = $1, highest_modseq = $2, messages = $3, unseen = $4, size = $5 WHERE id = $6`,
				len(texts)+1, len(texts)+1, len(texts), len(texts)/2, size, inboxID)
			check(t, err)
			_, err = db.Exec(`UPDATE accounts SET used_bytes = $1 WHERE id = $2`, size, accountID)
			check(t, err)
			check(t, db.Close())

			// Open migrates.
			s, err := Open(ctx, opts)
			check(t, err)
			defer s.Close()
			a, err := s.Account(ctx, "bob@example.com")
			check(t, err)
			n, err := s.Migrate(ctx)
			check(t, err)
			if n != 1 {
				t.Fatalf("migrated %d databases", n)
			}
			inbox := mustMailbox(t, s, a, "INBOX")
			if inbox.Messages != int64(len(texts)) {
				t.Fatalf("INBOX has %d messages, want %d", inbox.Messages, len(texts))
			}
			msgs, err := s.Messages(ctx, a, inbox.ID, nil, WantParsed|WantHeader)
			check(t, err)
			if len(msgs) != len(texts) {
				t.Fatalf("%d messages, want %d", len(msgs), len(texts))
			}
			for i, m := range msgs {
				if m.UID != UID(i+1) || m.Size != int64(len(texts[i])) || m.Parsed == nil || !bytes.HasPrefix([]byte(texts[i]), m.Header) || len(m.Header) == 0 {
					t.Fatalf("message %d: uid %d size %d parsed %v header %q", i, m.UID, m.Size, m.Parsed != nil, m.Header)
				}
				if m.Flags.Seen != (i%2 == 0) {
					t.Fatalf("message %d: seen %v", i, m.Flags.Seen)
				}
				if got := readMessage(t, s, a, inbox.ID, m.UID); got != texts[i] {
					t.Fatalf("message %d: content differs after migration (%d bytes, want %d)", i, len(got), len(texts[i]))
				}
			}

			// The migrated blobs keep working: the shared one is found
			// again (no second copy), the unreferenced one is swept.
			res, err := s.Append(ctx, a, inbox.ID, strings.NewReader(texts[0]), AppendOptions{})
			check(t, err)
			if got := readMessage(t, s, a, inbox.ID, res.UID); got != texts[0] {
				t.Fatal("appended copy differs")
			}
			s.opts.BlobGrace = time.Hour
			st, err := s.Sweep(ctx)
			check(t, err)
			if st.Blobs != 1 {
				t.Fatalf("swept %d blobs, want 1", st.Blobs)
			}
			err = s.withTenant(ctx, "example.com", func(tt *tenant) error {
				var blobs, chunks, refs int64
				if err := tt.db.QueryRow(`SELECT COUNT(*), MAX(refs) FROM blobs`).Scan(&blobs, &refs); err != nil {
					return err
				}
				if err := tt.db.QueryRow(`SELECT COUNT(*) FROM blob_chunks`).Scan(&chunks); err != nil {
					return err
				}
				// small (3 refs), big (several chunks), compressed
				want := int64(1 + (len(texts[1])+chunkSize-1)/chunkSize + 1)
				if blobs != 3 || refs != 3 || chunks != want {
					return fmt.Errorf("%d blobs (most refs %d), %d chunks; want 3 (3), %d", blobs, refs, chunks, want)
				}
				return nil
			})
			check(t, err)
			if opts.Backend == "sqlite" {
				// Migrations turn foreign keys off; the writer needs them back.
				err := s.withTenant(ctx, "example.com", func(tt *tenant) error {
					var on int
					if err := tt.wdb.QueryRow(`PRAGMA foreign_keys`).Scan(&on); err != nil || on != 1 {
						return fmt.Errorf("foreign_keys = %d after migration (%v)", on, err)
					}
					return nil
				})
				check(t, err)
			}
			rep, err := s.Fsck(ctx)
			check(t, err)
			if rep.Mailboxes != 0 || rep.Accounts != 0 || rep.Blobs != 0 {
				t.Fatalf("fsck after migration: %+v", rep)
			}
		})
	}
}

func readMessage(t *testing.T, s *Store, a *Account, mailboxID int64, uid UID) string {
	t.Helper()
	c, err := s.Open(context.Background(), a, mailboxID, uid)
	check(t, err)
	defer c.Close()
	b, err := io.ReadAll(c.Reader())
	check(t, err)
	return string(b)
}
