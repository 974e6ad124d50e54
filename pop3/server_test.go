package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"letterbox/auth"
	"letterbox/internal/testcert"
	"letterbox/storage"
)

// testEnv is a running server with one account, bob@example.com / secret
// (a {PLAIN} hash, so APOP works), on a fresh SQLite store. The server
// listens on loopback twice: cleartext with STLS, and implicit TLS.
type testEnv struct {
	t        testing.TB
	srv      *Server
	store    *storage.Store
	acct     *storage.Account
	inbox    *storage.Mailbox
	addr     string // cleartext (STLS available)
	tlsAddr  string // implicit TLS
	certFile string // PEM of the self-signed certificate, for clients
	roots    *x509.CertPool
}

type envOption func(*Server)

func newTestEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := storage.Open(ctx, storage.Options{DataDir: filepath.Join(dir, "data")})
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
	inbox, err := store.Mailbox(ctx, acct, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	cert := testcert.New(t, "localhost", "127.0.0.1")
	srv := &Server{
		Store:            store,
		Auth:             &auth.Authenticator{Store: store},
		Throttle:         auth.NewThrottle(),
		TLS:              cert.Server,
		CleartextAllowed: func(net.Addr) bool { return true },
		Hostname:         "pop.example.com",
		Log:              slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, o := range opts {
		o(srv)
	}
	e := &testEnv{t: t, srv: srv, store: store, acct: acct, inbox: inbox, certFile: cert.WritePEM(t, dir), roots: cert.Roots}
	for _, implicit := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if implicit {
			e.tlsAddr = ln.Addr().String()
		} else {
			e.addr = ln.Addr().String()
		}
		go srv.Serve(ln, implicit)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return e
}

// deliver appends a message to INBOX and returns its UID.
func (e *testEnv) deliver(msg string, opts ...storage.AppendOptions) storage.UID {
	e.t.Helper()
	var o storage.AppendOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	res, err := e.store.Append(context.Background(), e.acct, e.inbox.ID, strings.NewReader(msg), o)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.UID
}

// client speaks POP3 line by line, for tests that check exact bytes.
type client struct {
	t        testing.TB
	nc       net.Conn
	r        *bufio.Reader
	greeting string
}

func (e *testEnv) dial() *client {
	e.t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	return newClient(e.t, nc)
}

func (e *testEnv) dialTLS() *client {
	e.t.Helper()
	nc, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{RootCAs: e.roots, ServerName: "localhost"})
	if err != nil {
		e.t.Fatal(err)
	}
	return newClient(e.t, nc)
}

func newClient(t testing.TB, nc net.Conn) *client {
	t.Helper()
	t.Cleanup(func() { nc.Close() })
	c := &client{t: t, nc: nc, r: bufio.NewReader(nc)}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if c.greeting = c.line(); !strings.HasPrefix(c.greeting, "+OK ") {
		t.Fatalf("greeting %q", c.greeting)
	}
	return c
}

// login dials and logs in as bob with USER/PASS.
func (e *testEnv) login() *client {
	e.t.Helper()
	c := e.dial()
	c.ok("USER bob@example.com")
	c.ok("PASS secret")
	return c
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line without CRLF: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatal(err)
	}
}

// cmd sends one command and returns the first reply line.
func (c *client) cmd(line string) string {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.line()
}

// ok sends a command that must succeed and returns its reply line.
func (c *client) ok(line string) string {
	c.t.Helper()
	r := c.cmd(line)
	if !strings.HasPrefix(r, "+OK") {
		c.t.Fatalf("%s: %q", line, r)
	}
	return r
}

// err sends a command that must fail and returns its reply line.
func (c *client) err(line string) string {
	c.t.Helper()
	r := c.cmd(line)
	if !strings.HasPrefix(r, "-ERR") {
		c.t.Fatalf("%s: %q, want -ERR", line, r)
	}
	return r
}

// multi sends a command with a multi-line answer and returns the body as
// sent on the wire (still dot-stuffed, CRLFs kept), without the final ".".
func (c *client) multi(line string) (status, body string) {
	c.t.Helper()
	status = c.ok(line)
	var b strings.Builder
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("%s: read: %v", line, err)
		}
		if l == ".\r\n" {
			return status, b.String()
		}
		b.WriteString(l)
	}
}

// lines is multi split into lines.
func (c *client) lines(line string) []string {
	c.t.Helper()
	_, body := c.multi(line)
	if body == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
}

// retr fetches a message and undoes the dot-stuffing.
func (c *client) retr(n int) string {
	c.t.Helper()
	_, body := c.multi(fmt.Sprintf("RETR %d", n))
	return unstuff(body)
}

func unstuff(body string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(body, "\n") {
		b.WriteString(strings.TrimPrefix(l, "."))
	}
	return b.String()
}

// expectClosed checks that the server closed the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if l, err := c.r.ReadString('\n'); err == nil {
		c.t.Fatalf("connection still open; got %q", l)
	}
}

// rawDial connects without reading the greeting.
func rawDial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return nc, bufio.NewReader(nc)
}
