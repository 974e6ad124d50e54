package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendAndRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		date := time.Date(2026, 11, 20, 8, 30, 0, 0, time.FixedZone("", -5*3600))
		msg := testMessage("hello", "first line\nsecond line")
		res := must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(msg),
			AppendOptions{Flags: []string{`\Seen`, "$Label1", `\flagged`}, InternalDate: date}))
		if res.UID != 1 || res.UIDValidity != inbox.UIDValidity || res.ModSeq <= inbox.HighestModSeq {
			t.Fatalf("append result %+v, mailbox %+v", res, inbox)
		}
		res2 := must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(testMessage("two", "x")), AppendOptions{}))
		if res2.UID != 2 || res2.ModSeq <= res.ModSeq {
			t.Fatalf("second append %+v after %+v", res2, res)
		}
		msgs := must[[]Message](t)(s.Messages(ctx, a, inbox.ID, nil, WantParsed|WantHeader))
		if len(msgs) != 2 {
			t.Fatalf("got %d messages", len(msgs))
		}
		m := msgs[0]
		want := msg // stored byte for byte, bare LF included
		if m.Size != int64(len(want)) {
			t.Errorf("size %d, want %d", m.Size, len(want))
		}
		if !m.Flags.Seen || !m.Flags.Flagged || m.Flags.Answered || len(m.Flags.Keywords) != 1 || m.Flags.Keywords[0] != "$Label1" {
			t.Errorf("flags %+v", m.Flags)
		}
		if !m.InternalDate.Equal(date) {
			t.Errorf("internal date %v, want %v", m.InternalDate, date)
		}
		if _, off := m.InternalDate.Zone(); off != -5*3600 {
			t.Errorf("internal date zone offset %d", off)
		}
		if m.Parsed == nil || m.Parsed.Envelope.Subject != "hello" {
			t.Errorf("parsed %+v", m.Parsed)
		}
		if !bytes.HasPrefix(m.Header, []byte("From: Alice")) || !bytes.HasSuffix(m.Header, []byte("\r\n\r\n")) {
			t.Errorf("header %q", m.Header)
		}
		c := must[*Content](t)(s.Open(ctx, a, inbox.ID, 1))
		got, _ := io.ReadAll(c.Reader())
		if string(got) != want {
			t.Errorf("content %q, want %q", got, want)
		}
		sec, _ := io.ReadAll(c.Section(6, 5))
		if string(sec) != "Alice" {
			t.Errorf("section %q", sec)
		}
		c.Close()
		mb := mustMailbox(t, s, a, "INBOX")
		if mb.Messages != 2 || mb.Unseen != 1 || mb.UIDNext != 3 || mb.Size != msgs[0].Size+msgs[1].Size || mb.HighestModSeq != res2.ModSeq {
			t.Errorf("counters %+v", mb)
		}
		q := must[Quota](t)(s.Quota(ctx, a))
		if q.UsedBytes != mb.Size || q.Messages != 2 {
			t.Errorf("quota %+v", q)
		}
	})
}

func TestSpool(t *testing.T) {
	for _, size := range []int{0, 1, spoolChunk - 1, spoolChunk, spoolChunk + 1, 3*spoolChunk + 17, spoolMemory + 5} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		sp := &spool{dir: t.TempDir()}
		for off := 0; off < size; off += 1000 {
			sp.Write(data[off:min(off+1000, size)])
		}
		got := make([]byte, size)
		if n, err := sp.ReadAt(got, 0); n != size || (err != nil && err != io.EOF) || string(got) != string(data) {
			t.Fatalf("size %d: read %d, %v, equal %v", size, n, err, string(got) == string(data))
		}
		if size > 10 {
			part := make([]byte, 10)
			sp.ReadAt(part, int64(size-10))
			if string(part) != string(data[size-10:]) {
				t.Fatalf("size %d: tail differs", size)
			}
		}
		sp.close()
	}
}

// A failing write in a group commit undoes only itself: concurrent appends
// to a missing mailbox fail while the others in the same groups land.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				target := inbox.ID
				if i%3 == 0 {
					target = 999999
				}
				_, err := s.Append(ctx, a, target, strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i)), AppendOptions{})
				if (err == nil) != (i%3 != 0) {
					t.Errorf("append %d: %v", i, err)
				}
				if err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		mb := mustMailbox(t, s, a, "INBOX")
		if int(mb.Messages) != ok || ok != 26 {
			t.Fatalf("stored %d, counted %d, want 26", mb.Messages, ok)
		}
		if rep := must[FsckReport](t)(s.Fsck(ctx)); rep.Mailboxes+rep.Accounts+rep.Blobs != 0 {
			t.Fatalf("fsck %+v", rep)
		}
	})
}
