package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The checkpointer copies the WAL into the database file while the writer
// goes on. 60 appends of 10 KB, one at a time, leave fewer pages in the WAL
// than the writer's own automatic checkpoint (1000 by default, walBackstop
// here) waits for; the first 32 must reach the database file all the same.
func TestCheckpointerCopiesWAL(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Options{DataDir: dir})
	check(t, err)
	defer s.Close()
	a := newAccount(t, s, "ckpt@example.com")
	inbox := mustMailbox(t, s, a, "INBOX")
	db := filepath.Join(dir, "domains", "example.com", "letterbox.db")
	size := func() int64 {
		fi, err := os.Stat(db)
		check(t, err)
		return fi.Size()
	}
	before := size()
	for i := range 60 {
		_, err := s.Append(context.Background(), a, inbox.ID,
			strings.NewReader(testMessage("ckpt", strings.Repeat("x", 10000+i))), AppendOptions{})
		check(t, err)
	}
	// The copy runs beside the writer: wait for it.
	for deadline := time.Now().Add(5 * time.Second); size() < before+256<<10; {
		if time.Now().After(deadline) {
			t.Fatalf("database file grew from %d to %d bytes: no checkpoint", before, size())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := mustMailbox(t, s, a, "INBOX").Messages; got != 60 {
		t.Fatalf("%d messages, want 60", got)
	}
}
