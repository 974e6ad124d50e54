package lmtp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"letterbox/storage"
)

// testEnv is a storage on a temporary SQLite directory with the domain
// example.com and these accounts, and an LMTP server on a loopback port:
//
//	bob, carol   no quota
//	full         already over its quota (refused at RCPT)
//	tiny         2000 bytes of quota, empty (refused after DATA)
type testEnv struct {
	t     testing.TB
	dir   string
	store *storage.Store
	srv   *Server
	addr  string // host:port
	host  string // Options.Hostname
}

type envConfig struct {
	opts    Options
	maxSize int64 // storage limit; 0: default
	socket  bool  // listen on a unix socket instead of TCP
}

func newEnv(t testing.TB, configure ...func(*envConfig)) *testEnv {
	t.Helper()
	cfg := envConfig{opts: Options{Hostname: "mx.test", RecipientDelimiter: "+"}}
	for _, f := range configure {
		f(&cfg)
	}
	e := &testEnv{t: t, dir: t.TempDir(), host: cfg.opts.Hostname}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := storage.Open(ctx, storage.Options{DataDir: e.dir, MaxMessageSize: cfg.maxSize, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e.store = s
	if err := s.AddDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name  string
		quota int64
	}{{"bob", 0}, {"carol", 0}, {"full", 1000}, {"tiny", 2000}} {
		if _, err := s.CreateAccount(ctx, u.name+"@example.com", "x", u.quota); err != nil {
			t.Fatal(err)
		}
	}
	// full: 900 bytes stored, then the quota lowered below that.
	full := e.account("full@example.com")
	inbox := e.mailbox(full, "INBOX")
	if _, err := s.Append(ctx, full, inbox.ID, strings.NewReader("Subject: x\r\n\r\n"+strings.Repeat("x", 880)+"\r\n"), storage.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetQuota(ctx, "full@example.com", 500); err != nil {
		t.Fatal(err)
	}

	cfg.opts.MaxMessageSize = cfg.maxSize
	cfg.opts.Logger = quiet
	e.srv = NewServer(s, cfg.opts)
	var l net.Listener
	if cfg.socket {
		l, err = net.Listen("unix", filepath.Join(e.dir, "lmtp.sock"))
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	e.addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.Close()
	})
	return e
}

func (e *testEnv) account(login string) *storage.Account {
	e.t.Helper()
	a, err := e.store.Account(context.Background(), login)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *testEnv) mailbox(a *storage.Account, name string) *storage.Mailbox {
	e.t.Helper()
	mb, err := e.store.Mailbox(context.Background(), a, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return mb
}

// messages returns the stored bytes of every message in a mailbox, in
// UID order. (IMAP is another package's; this reads what its FETCH
// BODY[] serves, through the same storage call.)
func (e *testEnv) messages(login, mailbox string) [][]byte {
	e.t.Helper()
	ctx := context.Background()
	a := e.account(login)
	mb := e.mailbox(a, mailbox)
	msgs, err := e.store.Messages(ctx, a, mb.ID, nil, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		c, err := e.store.Open(ctx, a, mb.ID, m.UID)
		if err != nil {
			e.t.Fatal(err)
		}
		b, err := io.ReadAll(c.Reader())
		c.Close()
		if err != nil {
			e.t.Fatal(err)
		}
		if int64(len(b)) != m.Size {
			e.t.Errorf("%s %s UID %d: RFC822.SIZE %d, but %d bytes served", login, mailbox, m.UID, m.Size, len(b))
		}
		out = append(out, b)
	}
	return out
}

func (e *testEnv) inbox(login string) [][]byte { return e.messages(login, "INBOX") }

// traceRE matches the trace headers the server prepends: Return-Path,
// Delivered-To when there is a single recipient, and a Received field
// whose continuation lines start with a tab.
var traceRE = regexp.MustCompile(`^Return-Path: <[^\r\n]*>\r\n(Delivered-To: [^\r\n]+\r\n)?Received: from [^\r\n]+\r\n(\t[^\r\n]+\r\n)+`)

// splitTrace checks that stored is trace headers followed by want, byte for
// byte, and returns the trace headers.
func splitTrace(t *testing.T, stored, want []byte) string {
	t.Helper()
	m := traceRE.Find(stored)
	if m == nil {
		t.Fatalf("no trace headers at the start of the stored message:\n%q", head(stored))
	}
	if got := stored[len(m):]; !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		from := max(i-80, 0)
		t.Fatalf("stored message differs after the trace headers at byte %d of %d (want %d):\nstored %q\nwant   %q",
			i, len(got), len(want), head(got[from:]), head(want[from:]))
	}
	return string(m)
}

func head(b []byte) []byte {
	if len(b) > 400 {
		return b[:400]
	}
	return b
}

// client is a raw LMTP connection, for exact control over what is sent.
type client struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func (e *testEnv) dial() *client {
	e.t.Helper()
	network := "tcp"
	if strings.HasPrefix(e.addr, "/") {
		network = "unix"
	}
	c, err := net.Dial(network, e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	cl := &client{t: e.t, c: c, r: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	cl.expect("220 ")
	cl.cmd("LHLO client.test", "250 ")
	return cl
}

// send writes raw bytes.
func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatal(err)
	}
}

// reply reads one reply, multi-line ones joined with newlines.
func (c *client) reply() string {
	c.t.Helper()
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read reply: %v (so far %q)", err, lines)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

// expect reads a reply and checks its last line starts with prefix.
func (c *client) expect(prefix string) string {
	c.t.Helper()
	r := c.reply()
	last := r[strings.LastIndex(r, "\n")+1:]
	if !strings.HasPrefix(last, prefix) {
		c.t.Fatalf("reply %q, want %q...", r, prefix)
	}
	return r
}

// cmd sends a command line and checks the reply.
func (c *client) cmd(line, prefix string) string {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.expect(prefix)
}

// data sends DATA and msg (dot-stuffed here) and returns the replies, one
// per accepted recipient.
func (c *client) data(msg string, n int) []string {
	c.t.Helper()
	c.cmd("DATA", "354 ")
	c.send(dotStuff(msg) + ".\r\n")
	out := make([]string, n)
	for i := range out {
		out[i] = c.reply()
	}
	return out
}

// dotStuff doubles a dot at the start of a line (RFC 5321 section
// 4.5.2) and makes sure the data ends with CRLF.
func dotStuff(msg string) string {
	s := strings.ReplaceAll(msg, "\r\n.", "\r\n..")
	if strings.HasPrefix(s, ".") {
		s = "." + s
	}
	if !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return s
}

// checkCodes compares replies with the wanted code prefixes, in order.
func checkCodes(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d replies %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("reply %d: %q, want %q...", i, got[i], want[i])
		}
	}
}

// crlf turns \n into \r\n.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// needProgram skips the test when an outside program is not installed.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (Debian package in .ci/run); skipping", name)
	}
	return p
}

// tmpFiles lists what is left in storage's spool directory.
func (e *testEnv) tmpFiles() []string {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.dir, "tmp"))
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, de := range entries {
		names = append(names, de.Name())
	}
	return names
}

// checkClean checks that storage holds nothing half-written: no spool
// files, counters and reference counts that fsck finds nothing to fix in.
func (e *testEnv) checkClean() {
	e.t.Helper()
	if f := e.tmpFiles(); len(f) > 0 {
		e.t.Errorf("spool files left behind: %v", f)
	}
	rep, err := e.store.Fsck(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	if rep.Mailboxes+rep.Accounts+rep.Blobs != 0 {
		e.t.Errorf("fsck fixed something: %+v", rep)
	}
}
