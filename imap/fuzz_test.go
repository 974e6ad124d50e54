package imap

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"letterbox/auth"
	"letterbox/storage"
)

var fuzzEnv struct {
	once  sync.Once
	srv   *Server
	panic bytes.Buffer
	mu    sync.Mutex
}

// fuzzServer is one server for all fuzz inputs: a store with bob, and a
// logger that records panics (serve recovers them) so the fuzzer sees them.
func fuzzServer(t testing.TB) *Server {
	fuzzEnv.once.Do(func() {
		dir, _ := os.MkdirTemp("", "imapfuzz")
		ctx := context.Background()
		st, err := storage.Open(ctx, storage.Options{DataDir: dir})
		if err != nil {
			panic(err)
		}
		st.AddDomain(ctx, "example.com")
		st.CreateAccount(ctx, "bob@example.com", "{PLAIN}secret", 0)
		fuzzEnv.srv = &Server{Store: st, Auth: &auth.Authenticator{Store: st},
			CleartextAllowed: func(net.Addr) bool { return true }, MaxMessageSize: 1 << 20,
			Log: slog.New(slog.NewTextHandler(&lockedWriter{}, &slog.HandlerOptions{Level: slog.LevelError}))}
	})
	return fuzzEnv.srv
}

type lockedWriter struct{}

func (lockedWriter) Write(p []byte) (int, error) {
	fuzzEnv.mu.Lock()
	defer fuzzEnv.mu.Unlock()
	if bytes.Contains(p, []byte("panic")) {
		fuzzEnv.panic.Write(p)
	}
	return len(p), nil
}

// FuzzSession feeds arbitrary client bytes to a session: it must not panic,
// hang, or stop reading before the input ends.
func FuzzSession(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/imap/*.txt")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	f.Add([]byte("a LOGIN bob@example.com secret\r\nb SELECT INBOX\r\nc FETCH 1 BODY[]\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := fuzzServer(t)
		// Log in first so the fuzzer explores authenticated commands too.
		input := append([]byte("0 LOGIN bob@example.com secret\r\n"), data...)
		client, server := net.Pipe()
		c := newConn(srv, server, false)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Serve()
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write(input)
		client.Write([]byte("\r\nzz LOGOUT\r\n"))
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("session hung on %q", data)
		}
		fuzzEnv.mu.Lock()
		defer fuzzEnv.mu.Unlock()
		if fuzzEnv.panic.Len() > 0 {
			t.Fatalf("panic: %s (input %q)", strings.TrimSpace(fuzzEnv.panic.String()), data)
		}
	})
}
