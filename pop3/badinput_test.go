package pop3

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBadInput: each bad command gets -ERR with a reason, and the session
// goes on.
func TestBadInput(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.MaxLine = 300 })
	e.deliver(msg1)
	e.deliver(msg2)
	c := e.dial()
	for _, cmd := range []struct{ line, reason string }{
		{"STAT", "not allowed in the AUTHORIZATION state"},
		{"RETR 1", "not allowed"},
		{"PASS secret", "USER first"},
		{"FROBNICATE", "Unknown command"},
		{"XYZZ", "Unknown command"},
		{"", "Empty command"},
		{" USER bob", "must not start with a space"},
		{"US\x00R bob", "Unknown command"},
		{"USER", "needs a name"},
		{"CAPA please", "no arguments"},
		{"USER " + strings.Repeat("x", 300), "Line too long"},
	} {
		if r := c.err(cmd.line); !strings.Contains(r, cmd.reason) {
			t.Errorf("%.40q: %q, want a reason with %q", cmd.line, r, cmd.reason)
		}
	}
	c.ok("USER bob@example.com")
	c.ok("PASS secret")
	for _, cmd := range []struct{ line, reason string }{
		{"USER bob@example.com", "not allowed in the TRANSACTION state"},
		{"STLS", "not allowed in the TRANSACTION state"},
		{"AUTH PLAIN", "not allowed"},
		{"RETR", "needs a message number"},
		{"RETR 0", "No such message"},
		{"RETR 3", "No such message"},
		{"RETR -1", "Invalid message number"},
		{"RETR +1", "Invalid message number"},
		{"RETR 1.0", "Invalid message number"},
		{"RETR 99999999999999999999999999", "Invalid message number"},
		{"RETR 18446744073709551615", "No such message"},
		{"LIST 1 2", "at most one argument"},
		{"TOP 1", "needs a message number and a number of lines"},
		{"TOP 1 -1", "Invalid number of lines"},
		{"TOP -1 1", "Invalid message number"},
		{"TOP 1 x", "Invalid number of lines"},
		{"TOP 1 99999999999999999999999999", "Invalid number of lines"},
		{"TOP 4294967296 1", "No such message"},
		{"DELE", "needs a message number"},
		{"STAT 1", "no arguments"},
		{"NOOP x", "no arguments"},
		{"BLAH", "Unknown command"},
		{strings.Repeat("A", 1000), "Line too long"},
	} {
		if r := c.err(cmd.line); !strings.Contains(r, cmd.reason) {
			t.Errorf("%.40q: %q, want a reason with %q", cmd.line, r, cmd.reason)
		}
		c.ok("NOOP") // errors in a row end a session; these are not in a row
	}
	// A huge but valid line count is the whole message (RFC 1939 section 7).
	if _, b := c.multi("TOP 1 18446744073709551615"); unstuff(b) != msg1 {
		t.Fatalf("TOP with a huge count: %q", b)
	}
	c.ok("DELE 2")
	if r := c.err("RETR 2"); !strings.Contains(r, "deleted") {
		t.Fatalf("RETR of a deleted message: %q", r)
	}
	c.err("TOP 2 0")
	// The session went on through all of it.
	c.ok("NOOP")
	if got := c.retr(1); got != msg1 {
		t.Fatalf("RETR after errors %q", got)
	}
}

// TestTooManyErrors: a client that sends nothing but errors is cut off;
// a successful command in between starts the count again.
func TestTooManyErrors(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	for i := 1; i < maxErrors; i++ {
		c.err("GARBAGE")
	}
	c.ok("CAPA")
	for l := ""; l != "."; l = c.line() {
	}
	// Cross-protocol junk (an HTTP request, say) is errors in a row.
	c.send(strings.Repeat("GET / HTTP/1.1\r\n", maxErrors))
	for i := 0; i < maxErrors; i++ {
		if r := c.line(); !strings.HasPrefix(r, "-ERR Unknown command") {
			t.Fatalf("error %d: %q", i+1, r)
		}
	}
	if r := c.line(); !strings.Contains(r, "Too many errors") {
		t.Fatalf("after %d errors: %q", maxErrors, r)
	}
	c.expectClosed()
}

// TestOverlongLineWithoutNewline: a line that never ends is drained, not
// buffered; the session is answered once the line ends.
func TestOverlongLineWithoutNewline(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.MaxLine = 8192 })
	c := e.dial()
	junk := strings.Repeat("x", 64<<10)
	for i := 0; i < 16; i++ { // 1 MiB in one line
		c.send(junk)
	}
	c.send("\r\n")
	if r := c.line(); !strings.Contains(r, "Line too long") {
		t.Fatal(r)
	}
	c.ok("CAPA")
}

func TestIdleTimeout(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.IdleTimeout = 300 * time.Millisecond })
	c := e.login()
	time.Sleep(time.Second)
	if r := c.line(); !strings.Contains(r, "Autologout") {
		t.Fatal(r)
	}
	c.expectClosed()
}

func TestMaxConnsPerIP(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.MaxConnsPerIP = 1 })
	c := e.dial()
	nc, r := rawDial(t, e.addr)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "-ERR [SYS/TEMP] Too many connections") {
		t.Fatalf("second connection: %q", l)
	}
	nc.Close()
	c.ok("CAPA")
}

// TestShutdown: Shutdown ends idle sessions without the UPDATE state.
func TestShutdown(t *testing.T) {
	e := newTestEnv(t)
	e.deliver(msg1)
	c := e.login()
	c.ok("DELE 1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := c.line(); r != "-ERR [SYS/TEMP] Server shutting down" {
		t.Fatalf("at shutdown: %q", r)
	}
	c.expectClosed()
	if n := len(e.messages()); n != 1 {
		t.Fatalf("%d messages after shutdown, want 1: DELE without QUIT took effect", n)
	}
}
