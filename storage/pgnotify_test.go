package storage

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Two nodes on one PostgreSQL database: a change made through one wakes a
// watcher on the other.
func TestPGNotifyBetweenNodes(t *testing.T) {
	ctx := context.Background()
	url := pgSchema(t)
	n1 := must[*Store](t)(Open(ctx, Options{Backend: "postgres", PostgresURL: url, DataDir: t.TempDir()}))
	defer n1.Close()
	n2 := must[*Store](t)(Open(ctx, Options{Backend: "postgres", PostgresURL: url, DataDir: t.TempDir()}))
	defer n2.Close()
	a := newAccount(t, n1, "bob@example.com")
	inbox := mustMailbox(t, n2, a, "INBOX")
	w := n2.Watch(a, inbox.ID)
	defer w.Close()
	deadline := time.After(5 * time.Second)
	for {
		// The listener connects in the background: append until it hears.
		must[AppendResult](t)(n1.Append(ctx, a, inbox.ID, strings.NewReader("hello"), AppendOptions{}))
		select {
		case <-w.C:
			return
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("node 2 never woke up")
		}
	}
}
