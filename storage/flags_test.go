package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seed appends n messages "m1".."mn" to INBOX.
func seed(t *testing.T, s *Store, a *Account, n int) *Mailbox {
	t.Helper()
	inbox := mustMailbox(t, s, a, "INBOX")
	for i := 1; i <= n; i++ {
		subj := "m" + string(rune('0'+i%10))
		must[AppendResult](t)(s.Append(context.Background(), a, inbox.ID, strings.NewReader(testMessage(subj, "body "+subj)), AppendOptions{}))
	}
	return mustMailbox(t, s, a, "INBOX")
}

func TestStoreFlags(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := seed(t, s, a, 5)
		r := must[StoreResult](t)(s.StoreFlags(ctx, a, inbox.ID, UIDSet{{2, 4}}, StoreRequest{Mode: StoreAdd, Flags: []string{`\SEEN`, "Work"}}))
		if len(r.Changed) != 3 || r.Changed[0].UID != 2 || !r.Changed[0].Flags.Seen || !r.Changed[0].Flags.HasKeyword("work") {
			t.Fatalf("add: %+v", r)
		}
		m1 := r.Changed[0].ModSeq
		for _, c := range r.Changed {
			if c.ModSeq != m1 || m1 <= inbox.HighestModSeq {
				t.Fatalf("modseq %d, mailbox had %d", c.ModSeq, inbox.HighestModSeq)
			}
		}
		// Adding again changes nothing and bumps nothing.
		r = must[StoreResult](t)(s.StoreFlags(ctx, a, inbox.ID, UIDSet{{2, 4}}, StoreRequest{Mode: StoreAdd, Flags: []string{`\Seen`}}))
		if len(r.Changed) != 0 {
			t.Fatalf("no-op store changed %v", r.Changed)
		}
		mb := mustMailbox(t, s, a, "INBOX")
		if mb.Unseen != 2 || mb.HighestModSeq != m1 {
			t.Fatalf("counters %+v", mb)
		}
		r = must[StoreResult](t)(s.StoreFlags(ctx, a, inbox.ID, UIDSet{{3, 3}}, StoreRequest{Mode: StoreRemove, Flags: []string{"work", `\Seen`}}))
		if len(r.Changed) != 1 || r.Changed[0].Flags.Seen || len(r.Changed[0].Flags.Keywords) != 0 {
			t.Fatalf("remove: %+v", r)
		}
		r = must[StoreResult](t)(s.StoreFlags(ctx, a, inbox.ID, UIDSet{{1, 0}}, StoreRequest{Mode: StoreReplace, Flags: []string{`\Deleted`, `\Recent`, "$Junk"}}))
		if len(r.Changed) != 5 {
			t.Fatalf("replace: %d changed", len(r.Changed))
		}
		msgs := must[[]Message](t)(s.Messages(ctx, a, inbox.ID, nil, 0))
		for _, m := range msgs {
			if got := strings.Join(m.Flags.Names(), " "); got != `\Deleted $Junk` {
				t.Fatalf("uid %d flags %q", m.UID, got)
			}
		}
		mb = mustMailbox(t, s, a, "INBOX")
		if mb.Unseen != 5 || mb.Deleted != 5 {
			t.Fatalf("counters %+v", mb)
		}
		// UNCHANGEDSINCE: message 2 changes after the client saw modseq x.
		seen := mb.HighestModSeq
		must[StoreResult](t)(s.StoreFlags(ctx, a, inbox.ID, UIDSetOf(2), StoreRequest{Mode: StoreAdd, Flags: []string{`\Flagged`}}))
		r = must[StoreResult](t)(s.StoreFlags(ctx, a, inbox.ID, UIDSetOf(1, 2, 3), StoreRequest{Mode: StoreAdd, Flags: []string{`\Answered`}, UnchangedSince: seen}))
		if len(r.Modified) != 1 || r.Modified[0] != 2 || len(r.Changed) != 2 {
			t.Fatalf("unchangedsince: %+v", r)
		}
	})
}

func TestCopyMoveExpunge(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := seed(t, s, a, 4)
		arch := mustMailbox(t, s, a, "Archive")
		must[StoreResult](t)(s.StoreFlags(ctx, a, inbox.ID, UIDSetOf(1), StoreRequest{Mode: StoreAdd, Flags: []string{`\Seen`, "kw1"}}))
		cr := must[CopyResult](t)(s.Copy(ctx, a, inbox.ID, UIDSetOf(1, 3, 99), arch.ID))
		if cr.UIDValidity != arch.UIDValidity || len(cr.Source) != 2 || cr.Source[1] != 3 || cr.Dest[0] != 1 || cr.Dest[1] != 2 {
			t.Fatalf("copy %+v", cr)
		}
		got := must[[]Message](t)(s.Messages(ctx, a, arch.ID, nil, 0))
		if len(got) != 2 || !got[0].Flags.Seen || !got[0].Flags.HasKeyword("kw1") {
			t.Fatalf("copied %+v", got)
		}
		q := must[Quota](t)(s.Quota(ctx, a))
		inboxNow := mustMailbox(t, s, a, "INBOX")
		archNow := mustMailbox(t, s, a, "Archive")
		if q.UsedBytes != inboxNow.Size+archNow.Size || q.Messages != 6 {
			t.Fatalf("quota after copy %+v", q)
		}
		// Move: source sees the messages vanish, destination gets new UIDs.
		before := inboxNow.HighestModSeq
		mr := must[CopyResult](t)(s.Move(ctx, a, inbox.ID, UIDSet{{2, 0}}, arch.ID))
		if len(mr.Dest) != 3 || mr.Dest[0] != 3 {
			t.Fatalf("move %+v", mr)
		}
		ch := must[*Changes](t)(s.Changes(ctx, a, inbox.ID, before))
		if len(ch.Vanished) != 3 || ch.Vanished[0] != 2 || len(ch.Changed) != 0 {
			t.Fatalf("changes after move %+v", ch)
		}
		if q2 := must[Quota](t)(s.Quota(ctx, a)); q2.UsedBytes != q.UsedBytes {
			t.Fatalf("move changed usage %d -> %d", q.UsedBytes, q2.UsedBytes)
		}
		// Expunge removes only \Deleted messages of the set.
		must[StoreResult](t)(s.StoreFlags(ctx, a, arch.ID, UIDSetOf(1, 2, 4), StoreRequest{Mode: StoreAdd, Flags: []string{`\Deleted`}}))
		gone := must[[]UID](t)(s.Expunge(ctx, a, arch.ID, UIDSetOf(1, 2, 3)))
		if len(gone) != 2 || gone[0] != 1 || gone[1] != 2 {
			t.Fatalf("expunged %v", gone)
		}
		gone = must[[]UID](t)(s.Expunge(ctx, a, arch.ID, nil))
		if len(gone) != 1 || gone[0] != 4 {
			t.Fatalf("expunge all %v", gone)
		}
		left := must[[]Message](t)(s.Messages(ctx, a, arch.ID, nil, 0))
		if len(left) != 2 || left[0].UID != 3 || left[1].UID != 5 {
			t.Fatalf("left %+v", left)
		}
		// New appends never reuse expunged UIDs.
		r := must[AppendResult](t)(s.Append(ctx, a, arch.ID, strings.NewReader("x"), AppendOptions{}))
		if r.UID != 6 {
			t.Fatalf("uid after expunge %d", r.UID)
		}
		// Copying into a missing mailbox fails and writes nothing.
		_, err := s.Copy(ctx, a, arch.ID, nil, 99999)
		wantErr(t, err, ErrNotFound)
		rep := must[FsckReport](t)(s.Fsck(ctx))
		if rep != (FsckReport{Databases: rep.Databases}) {
			t.Fatalf("fsck %+v", rep)
		}
	})
}

func TestChangesAndEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := seed(t, s, a, 3)
		w := s.Watch(a, inbox.ID)
		defer w.Close()
		since := inbox.HighestModSeq
		must[StoreResult](t)(s.StoreFlags(ctx, a, inbox.ID, UIDSetOf(2), StoreRequest{Mode: StoreAdd, Flags: []string{`\Deleted`}}))
		select {
		case <-w.C:
		case <-time.After(2 * time.Second):
			t.Fatal("no wake-up after STORE")
		}
		must[[]UID](t)(s.Expunge(ctx, a, inbox.ID, nil))
		must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader("new"), AppendOptions{}))
		select {
		case <-w.C:
		case <-time.After(2 * time.Second):
			t.Fatal("no wake-up after append")
		}
		ch := must[*Changes](t)(s.Changes(ctx, a, inbox.ID, since))
		if len(ch.Vanished) != 1 || ch.Vanished[0] != 2 || len(ch.Changed) != 1 || ch.Changed[0].UID != 4 || ch.Truncated {
			t.Fatalf("changes %+v", ch)
		}
		if ch.HighestModSeq != mustMailbox(t, s, a, "INBOX").HighestModSeq {
			t.Fatalf("highest modseq mismatch")
		}
		none := must[*Changes](t)(s.Changes(ctx, a, inbox.ID, ch.HighestModSeq))
		if len(none.Changed)+len(none.Vanished) != 0 {
			t.Fatalf("changes since now %+v", none)
		}
		// Another mailbox's change does not wake this watcher.
		must[AppendResult](t)(s.Append(ctx, a, mustMailbox(t, s, a, "Junk").ID, strings.NewReader("spam"), AppendOptions{}))
		select {
		case <-w.C:
			t.Fatal("woken by another mailbox")
		case <-time.After(50 * time.Millisecond):
		}
	})
}

func TestBlobsSharedAndSwept(t *testing.T) {
	for _, tweak := range []struct {
		name string
		f    func(*Options)
	}{
		{"sql", func(o *Options) { o.BlobBackend = "sql" }},
		{"sql-zstd", func(o *Options) { o.BlobBackend, o.Compression = "sql", "zstd" }},
		{"file", func(o *Options) { o.BlobBackend = "file" }},
		{"file-zstd", func(o *Options) { o.BlobBackend, o.Compression = "file", "zstd" }},
		{"sql-large-in-files", func(o *Options) { o.BlobBackend, o.BlobFileMinSize = "sql", 1<<20 }},
		{"sql-zstd-large-in-files", func(o *Options) { o.BlobBackend, o.Compression, o.BlobFileMinSize = "sql", "zstd", 1<<20 }},
	} {
		t.Run(tweak.name, func(t *testing.T) {
			eachBackendOpts(t, func(o *Options) { tweak.f(o); o.BlobGrace = time.Nanosecond }, func(t *testing.T, s *Store) {
				ctx := context.Background()
				a := newAccount(t, s, "bob@example.com")
				b := newAccount(t, s, "carol@example.com")
				big := strings.Repeat("0123456789abcdef", 70000) // > 1 MiB: spools to a file, several chunks
				msg := testMessage("shared", big)
				in := must[*Incoming](t)(s.Receive(strings.NewReader(msg)))
				res := s.Deliver(ctx, in, []Target{
					{Account: a, MailboxID: mustMailbox(t, s, a, "INBOX").ID},
					{Account: a, MailboxID: mustMailbox(t, s, a, "Archive").ID},
					{Account: b, MailboxID: mustMailbox(t, s, b, "INBOX").ID},
					{Account: b, MailboxID: 123456},
				})
				in.Close()
				for i, r := range res[:3] {
					if r.Err != nil {
						t.Fatalf("target %d: %v", i, r.Err)
					}
				}
				wantErr(t, res[3].Err, ErrNotFound)
				var refs, chunks, inFiles int
				tt := must[*tenant](t)(s.router.acquire(ctx, "example.com"))
				check(t, tt.db.QueryRow(`SELECT MAX(refs), COUNT(*) FILTER (WHERE in_file) FROM blobs`).Scan(&refs, &inFiles))
				check(t, tt.db.QueryRow(`SELECT COUNT(*) FROM blob_chunks`).Scan(&chunks))
				blobDir := tt.blobDir
				s.router.release(tt)
				if refs != 3 {
					t.Fatalf("blob refs %d, want 3", refs)
				}
				// The file backend, or a message past the SQL backend's file
				// threshold: one file and no chunks; else chunks and no file.
				wantFile := s.opts.BlobBackend == "file" || s.opts.BlobFileMinSize > 0
				if files := countFiles(t, blobDir); wantFile != (files == 1 && chunks == 0) || !wantFile && files != 0 {
					t.Fatalf("%d blob files and %d chunks", files, chunks)
				}
				if (inFiles == 1) != wantFile {
					t.Fatalf("%d blobs rows say in_file", inFiles)
				}
				c := must[*Content](t)(s.Open(ctx, b, mustMailbox(t, s, b, "INBOX").ID, 1))
				got, _ := io.ReadAll(c.Reader())
				if string(got) != msg {
					t.Fatalf("content differs: %d bytes, want %d", len(got), len(msg))
				}
				sec, _ := io.ReadAll(c.Section(int64(len(msg))-20, 100))
				if string(sec) != msg[len(msg)-20:] {
					t.Fatalf("tail section %q", sec)
				}
				sec, _ = io.ReadAll(c.Section(300000, 10))
				if string(sec) != msg[300000:300010] {
					t.Fatalf("middle section %q", sec)
				}
				c.Close()
				check(t, s.DeleteAccount(ctx, "carol@example.com"))
				for _, name := range []string{"INBOX", "Archive"} {
					mb := mustMailbox(t, s, a, name)
					must[StoreResult](t)(s.StoreFlags(ctx, a, mb.ID, nil, StoreRequest{Mode: StoreAdd, Flags: []string{`\Deleted`}}))
					must[[]UID](t)(s.Expunge(ctx, a, mb.ID, nil))
				}
				// Age the stamps rather than sleep: unref_since has second resolution.
				tt = must[*tenant](t)(s.router.acquire(ctx, "example.com"))
				check(t, tt.write(ctx, func(tx *txn) error {
					_, err := tx.Exec(`UPDATE blobs SET unref_since = unref_since - 10`)
					return err
				}))
				s.router.release(tt)
				st := must[SweepStats](t)(s.Sweep(ctx))
				if st.Blobs != 1 {
					t.Fatalf("sweep %+v", st)
				}
				if n := countFiles(t, blobDir); n != 0 {
					t.Fatalf("%d blob files left after the sweep", n)
				}
				// The same content delivered again is stored again.
				r := must[AppendResult](t)(s.Append(ctx, a, mustMailbox(t, s, a, "INBOX").ID, strings.NewReader(msg), AppendOptions{}))
				c = must[*Content](t)(s.Open(ctx, a, mustMailbox(t, s, a, "INBOX").ID, r.UID))
				got, _ = io.ReadAll(c.Reader())
				c.Close()
				if string(got) != msg {
					t.Fatal("content after re-delivery differs")
				}
			})
		})
	}
}

// countFiles counts the regular files under dir (none when it is absent).
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return nil
		}
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	check(t, err)
	return n
}

// TestBlobFileThresholdChanged: where a blob's content is kept is decided
// when the blob is first stored, whatever the threshold says later. The
// same content delivered again under another threshold is read from where
// it was kept, and a file staged for it in vain is swept as an orphan.
func TestBlobFileThresholdChanged(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			opts := b.opts(t)
			opts.BlobBackend, opts.BlobGrace = "sql", time.Nanosecond
			small := testMessage("stays in the database", strings.Repeat("d", 5000))
			large := testMessage("stays in a file", strings.Repeat("f", 9000))

			s := must[*Store](t)(Open(ctx, opts))
			a := newAccount(t, s, "bob@example.com")
			inbox := mustMailbox(t, s, a, "INBOX")
			must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(small), AppendOptions{}))
			check(t, s.Close())

			opts.BlobFileMinSize = 4000 // both are past it now
			s = must[*Store](t)(Open(ctx, opts))
			a = must[*Account](t)(s.Account(ctx, "bob@example.com"))
			must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(small), AppendOptions{}))
			must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(large), AppendOptions{}))
			tt := must[*tenant](t)(s.router.acquire(ctx, "example.com"))
			blobDir := tt.blobDir
			s.router.release(tt)
			if n := countFiles(t, blobDir); n != 2 {
				t.Fatalf("%d blob files, want 2 (one staged in vain)", n)
			}
			st := must[SweepStats](t)(s.Sweep(ctx))
			if st.Orphans != 1 || countFiles(t, blobDir) != 1 {
				t.Fatalf("sweep %+v left %d files, want the orphan gone", st, countFiles(t, blobDir))
			}
			check(t, s.Close())

			opts.BlobFileMinSize = 0
			s = must[*Store](t)(Open(ctx, opts))
			defer s.Close()
			a = must[*Account](t)(s.Account(ctx, "bob@example.com"))
			for uid, want := range map[UID]string{1: small, 2: small, 3: large} {
				c := must[*Content](t)(s.Open(ctx, a, inbox.ID, uid))
				got, err := io.ReadAll(c.Reader())
				c.Close()
				check(t, err)
				if string(got) != want {
					t.Fatalf("UID %d reads %d bytes, want %d", uid, len(got), len(want))
				}
			}
		})
	}
}

// TestSpooledMessageInFile: a message past the in-memory spool is copied
// from the spool file into its blob file whole, with either backend.
func TestSpooledMessageInFile(t *testing.T) {
	for name, tweak := range map[string]func(*Options){
		"sql-large-in-files": func(o *Options) { o.BlobBackend, o.BlobFileMinSize = "sql", 1<<20 },
		"file":               func(o *Options) { o.BlobBackend = "file" },
	} {
		t.Run(name, func(t *testing.T) {
			eachBackendOpts(t, tweak, func(t *testing.T, s *Store) {
				ctx := context.Background()
				a := newAccount(t, s, "bob@example.com")
				inbox := mustMailbox(t, s, a, "INBOX")
				var b strings.Builder
				for i := 0; b.Len() < spoolMemory+spoolChunk+123; i++ {
					fmt.Fprintf(&b, "line %07d of a message larger than the in-memory spool\r\n", i)
				}
				msg := testMessage("spooled", b.String())
				r := must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(msg), AppendOptions{}))
				c := must[*Content](t)(s.Open(ctx, a, inbox.ID, r.UID))
				got, err := io.ReadAll(c.Reader())
				c.Close()
				check(t, err)
				if string(got) != msg {
					t.Fatalf("read back %d bytes, want %d (equal: %v)", len(got), len(msg), string(got) == msg)
				}
				if rep := must[FsckReport](t)(s.Fsck(ctx)); rep.Missing != 0 {
					t.Fatalf("fsck: %+v", rep)
				}
			})
		})
	}
}

// TestFsckFindsMissingContent: a blob file gone (a domain restored without
// its blobs directory) or a blob's chunks gone is reported, not hidden.
func TestFsckFindsMissingContent(t *testing.T) {
	eachBackendOpts(t, func(o *Options) { o.BlobBackend, o.BlobFileMinSize = "sql", 4000 }, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(testMessage("large", strings.Repeat("l", 9000))), AppendOptions{}))
		must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(testMessage("small", "s")), AppendOptions{}))
		if rep := must[FsckReport](t)(s.Fsck(ctx)); rep.Missing != 0 {
			t.Fatalf("fsck of an intact store: %+v", rep)
		}
		tt := must[*tenant](t)(s.router.acquire(ctx, "example.com"))
		blobDir := tt.blobDir
		check(t, tt.write(ctx, func(tx *txn) error {
			_, err := tx.Exec(`DELETE FROM blob_chunks`)
			return err
		}))
		s.router.release(tt)
		rep := must[FsckReport](t)(s.Fsck(ctx))
		if rep.Missing != 1 || !strings.Contains(rep.FirstMissing, "no chunks") {
			t.Fatalf("chunks deleted: %+v", rep)
		}
		check(t, os.RemoveAll(blobDir))
		rep = must[FsckReport](t)(s.Fsck(ctx))
		if rep.Missing != 2 {
			t.Fatalf("chunks and file deleted: %+v", rep)
		}
	})
}

func TestQuota(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		check(t, s.SetQuota(ctx, a.Name, 100))
		inbox := mustMailbox(t, s, a, "INBOX")
		must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(strings.Repeat("x", 60)), AppendOptions{}))
		_, err := s.Append(ctx, a, inbox.ID, strings.NewReader(strings.Repeat("y", 60)), AppendOptions{})
		wantErr(t, err, ErrOverQuota)
		_, err = s.Copy(ctx, a, inbox.ID, nil, mustMailbox(t, s, a, "Archive").ID)
		wantErr(t, err, ErrOverQuota)
		mb := mustMailbox(t, s, a, "INBOX")
		if mb.Messages != 1 {
			t.Fatalf("refused append left a message: %+v", mb)
		}
		// A move does not need more room.
		must[CopyResult](t)(s.Move(ctx, a, inbox.ID, nil, mustMailbox(t, s, a, "Archive").ID))
	})
}

func TestTooBig(t *testing.T) {
	eachBackendOpts(t, func(o *Options) { o.MaxMessageSize = 1000 }, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		_, err := s.Append(ctx, a, inbox.ID, strings.NewReader(strings.Repeat("x", 5000)), AppendOptions{})
		wantErr(t, err, ErrTooBig)
		must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(strings.Repeat("x", 1000)), AppendOptions{}))
	})
}

func TestRecent(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := seed(t, s, a, 3)
		if n := must[int64](t)(s.RecentCount(ctx, a, inbox.ID)); n != 3 {
			t.Fatalf("recent count %d", n)
		}
		if from := must[UID](t)(s.ClaimRecent(ctx, a, inbox.ID, 3)); from != 1 {
			t.Fatalf("first claim from %d", from)
		}
		if from := must[UID](t)(s.ClaimRecent(ctx, a, inbox.ID, 3)); from != 4 {
			t.Fatalf("second claim from %d (nothing left)", from)
		}
		seed(t, s, a, 1)
		if n := must[int64](t)(s.RecentCount(ctx, a, inbox.ID)); n != 1 {
			t.Fatalf("recent count after delivery %d", n)
		}
		_, err := s.ClaimRecent(ctx, newAccount(t, s, "eve@example.com"), inbox.ID, 9)
		wantErr(t, err, ErrNotFound)
	})
}

// TestCompressedBeforeTheWriter: with zstd and the SQL backend, a blob of
// one chunk is compressed when it is staged, in the delivering goroutine,
// and the writer stores those bytes; a larger one is compressed chunk by
// chunk in the transaction. Both read back as they arrived.
func TestCompressedBeforeTheWriter(t *testing.T) {
	eachBackendOpts(t, func(o *Options) { o.BlobBackend, o.Compression = "sql", "zstd" }, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		for _, size := range []int{100, spoolChunk + 5000, chunkSize + 5000} {
			var b strings.Builder
			for i := 0; b.Len() < size; i++ {
				fmt.Fprintf(&b, "line %06d of %d bytes\r\n", i, size)
			}
			msg := testMessage(fmt.Sprint("size ", size), b.String())
			in := must[*Incoming](t)(s.Receive(strings.NewReader(msg)))
			res := s.Deliver(ctx, in, []Target{{Account: a, MailboxID: inbox.ID}})
			in.Close()
			check(t, res[0].Err)
			if (in.packed != nil) != (in.size <= chunkSize) {
				t.Fatalf("%d bytes: compressed before the writer: %v", in.size, in.packed != nil)
			}
			if in.packed != nil {
				tt := must[*tenant](t)(s.router.acquire(ctx, "example.com"))
				var stored []byte
				err := tt.db.QueryRow(`SELECT c.data FROM blob_chunks c JOIN blobs b ON b.id = c.blob_id WHERE b.hash = $1 AND c.seq = 0`, in.hash).Scan(&stored)
				s.router.release(tt)
				check(t, err)
				if !bytes.Equal(stored, in.packed) {
					t.Fatalf("%d bytes: the stored chunk is not the staged one", in.size)
				}
			}
			c := must[*Content](t)(s.Open(ctx, a, inbox.ID, res[0].UID))
			got, err := io.ReadAll(c.Reader())
			c.Close()
			check(t, err)
			if string(got) != msg {
				t.Fatalf("%d bytes: read back %d bytes", len(msg), len(got))
			}
		}
	})
}
