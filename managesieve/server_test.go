package managesieve

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"letterbox/auth"
	"letterbox/internal/testcert"
	"letterbox/storage"
)

// testEnv is a running server with one account, bob@example.com /
// secret, on a fresh SQLite store, listening on a loopback port with
// STARTTLS available.
type testEnv struct {
	t        testing.TB
	srv      *Server
	store    *storage.Store
	acct     *storage.Account
	addr     string
	certFile string // PEM of the self-signed certificate, for clients
	roots    *x509.CertPool
}

// fakeCompile stands in for package sieve: a script holding "error" is
// refused with a message in the compiler's form (name:line:col: text), one
// holding "warn" is accepted with a warning.
func fakeCompile(name string, src []byte) (string, error) {
	s := string(src)
	if i := strings.Index(s, "error"); i >= 0 {
		line := strings.Count(s[:i], "\n") + 1
		col := i - strings.LastIndex(s[:i], "\n")
		return "", fmt.Errorf("%s:%d:%d: unknown command \"error\"", name, line, col)
	}
	if strings.Contains(s, "warn") {
		return "line 1: redirect limit is 4", nil
	}
	return "", nil
}

var testExtensions = []string{"fileinto", "reject", "enotify", "variables"}

func newTestEnv(t testing.TB, opts ...func(*Server)) *testEnv {
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
	cert := testcert.New(t, "localhost", "127.0.0.1")
	srv := &Server{
		Store:            store,
		Auth:             &auth.Authenticator{Store: store},
		Throttle:         auth.NewThrottle(),
		TLS:              cert.Server,
		CleartextAllowed: func(net.Addr) bool { return true },
		Compile:          fakeCompile,
		Extensions:       testExtensions,
		NotifyMethods:    []string{"mailto"},
		MaxRedirects:     4,
		MaxScripts:       25,
		Log:              slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, o := range opts {
		o(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testEnv{t: t, srv: srv, store: store, acct: acct, addr: ln.Addr().String(), certFile: cert.WritePEM(t, dir), roots: cert.Roots}
}

// client speaks ManageSieve line by line, for tests that check exact
// replies.
type client struct {
	t        testing.TB
	nc       net.Conn
	r        *bufio.Reader
	greeting []string
}

func (e *testEnv) dial() *client {
	e.t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &client{t: e.t, nc: nc, r: bufio.NewReader(nc)}
	e.t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	lines, last := c.response()
	if !strings.HasPrefix(last, "OK") {
		e.t.Fatalf("greeting ends with %q", last)
	}
	c.greeting = lines
	return c
}

// login dials and authenticates as bob with PLAIN and an initial response.
func (e *testEnv) login() *client {
	e.t.Helper()
	c := e.dial()
	c.ok(`AUTHENTICATE "PLAIN" "` + plain("", "bob@example.com", "secret") + `"`)
	return c
}

func plain(authz, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// send writes s and a CRLF.
func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

var literalEnd = regexp.MustCompile(`\{(\d+)\}$`)

// item reads one logical line of a reply: a server literal ({N} at the end
// of a line) is read and put in its place.
func (c *client) item() string {
	c.t.Helper()
	var b strings.Builder
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v (after %q)", err, b.String()+l)
		}
		if !strings.HasSuffix(l, "\r\n") {
			c.t.Fatalf("line without CRLF: %q", l)
		}
		l = strings.TrimSuffix(l, "\r\n")
		m := literalEnd.FindStringSubmatchIndex(l)
		if m == nil {
			b.WriteString(l)
			return b.String()
		}
		n, _ := strconv.Atoi(l[m[2]:m[3]])
		b.WriteString(l[:m[0]])
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			c.t.Fatalf("read literal: %v", err)
		}
		b.Write(buf)
	}
}

// response reads lines up to and including an OK, NO or BYE line.
func (c *client) response() (lines []string, last string) {
	c.t.Helper()
	for {
		l := c.item()
		if isFinal(l) {
			return lines, l
		}
		lines = append(lines, l)
	}
}

func isFinal(l string) bool {
	for _, p := range []string{"OK", "NO", "BYE"} {
		if l == p || strings.HasPrefix(l, p+" ") {
			return true
		}
	}
	return false
}

// ok sends a command and wants an OK; it returns the lines before it.
func (c *client) ok(cmd string) []string {
	c.t.Helper()
	c.send(cmd)
	lines, last := c.response()
	if !strings.HasPrefix(last, "OK") {
		c.t.Fatalf("%.60q: got %q, want OK", cmd, last)
	}
	return lines
}

// no sends a command and wants a NO reply starting with want.
func (c *client) no(cmd, want string) {
	c.t.Helper()
	c.send(cmd)
	lines, last := c.response()
	if len(lines) > 0 || !strings.HasPrefix(last, want) {
		c.t.Fatalf("%.60q: got %q %q, want %q", cmd, lines, last, want)
	}
}

// bye wants the server to say BYE (starting with want) and close.
func (c *client) bye(want string) {
	c.t.Helper()
	_, last := c.response()
	if !strings.HasPrefix(last, "BYE") || !strings.HasPrefix(last, want) {
		c.t.Fatalf("got %q, want %q", last, want)
	}
	if b, err := c.r.ReadByte(); err == nil {
		c.t.Fatalf("data after BYE: %q", b)
	}
}

// closed checks that the server closed the connection.
func (c *client) closed() {
	c.t.Helper()
	if l, err := c.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		c.t.Fatalf("connection still open: %q %v", l, err)
	}
}

// literal is s as a client literal, "{N+}" CRLF s.
func literal(s string) string { return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s }

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func newReader(nc net.Conn) *bufio.Reader {
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return bufio.NewReader(nc)
}
