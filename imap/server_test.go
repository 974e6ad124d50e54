package imap

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"letterbox/auth"
	"letterbox/storage"
)

// testEnv is a running server on a loopback port with one account,
// bob@example.com / secret, backed by a fresh SQLite store.
type testEnv struct {
	t     *testing.T
	srv   *Server
	store *storage.Store
	addr  string
	acct  *storage.Account
}

func newTestEnv(t *testing.T, configure ...func(*Server)) *testEnv {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, storage.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.AddDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	acct, err := store.CreateAccount(ctx, "bob@example.com", "{PLAIN}secret", 0)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := &Server{
		Store:            store,
		Auth:             &auth.Authenticator{Store: store},
		Throttle:         auth.NewThrottle(),
		CleartextAllowed: func(net.Addr) bool { return true },
		MaxMessageSize:   50 << 20,
		Log:              log,
	}
	for _, f := range configure {
		f(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln, false)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &testEnv{t: t, srv: srv, store: store, addr: ln.Addr().String(), acct: acct}
}

// rawClient speaks IMAP line by line, for tests that check exact bytes.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
	n  int
}

func (e *testEnv) dial() *rawClient {
	e.t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { nc.Close() })
	c := &rawClient{t: e.t, nc: nc, r: bufio.NewReader(nc)}
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if l := c.line(); !strings.HasPrefix(l, "* OK") {
		e.t.Fatalf("greeting %q", l)
	}
	return c
}

// login dials and logs in as bob.
func (e *testEnv) login() *rawClient {
	c := e.dial()
	c.ok("LOGIN bob@example.com secret")
	return c
}

func (c *rawClient) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// cmd sends a command with a fresh tag and returns the untagged lines
// (literals inlined) and the tagged status line.
func (c *rawClient) cmd(command string) (untagged []string, status string) {
	c.t.Helper()
	c.n++
	tag := fmt.Sprintf("T%d", c.n)
	c.send(tag + " " + command + "\r\n")
	for {
		l := c.line()
		for strings.HasSuffix(l, "}") && strings.Contains(l, "{") {
			var n int
			fmt.Sscanf(l[strings.LastIndex(l, "{")+1:], "%d", &n)
			buf := make([]byte, n)
			if _, err := io_ReadFull(c.r, buf); err != nil {
				c.t.Fatal(err)
			}
			l += "\r\n" + string(buf) + c.line()
		}
		if strings.HasPrefix(l, tag+" ") {
			return untagged, strings.TrimPrefix(l, tag+" ")
		}
		untagged = append(untagged, l)
	}
}

// ok runs a command that must succeed.
func (c *rawClient) ok(command string) []string {
	c.t.Helper()
	u, st := c.cmd(command)
	if !strings.HasPrefix(st, "OK") {
		c.t.Fatalf("%s: %s (untagged %q)", command, st, u)
	}
	return u
}

// appendMsg stores a message in a mailbox through storage.
func (e *testEnv) appendMsg(mailbox, msg string, flags ...string) storage.UID {
	e.t.Helper()
	mb, err := e.store.Mailbox(context.Background(), e.acct, mailbox)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.store.Append(context.Background(), e.acct, mb.ID, strings.NewReader(msg), storage.AppendOptions{Flags: flags})
	if err != nil {
		e.t.Fatal(err)
	}
	return r.UID
}

var io_ReadFull = io.ReadFull
