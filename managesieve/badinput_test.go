package managesieve

import (
	"context"
	"strings"
	"testing"
	"time"

	"letterbox/auth"
)

// Bad input gets NO and the session goes on, or BYE when nothing after it
// could be trusted to be a command; it never ends a session silently.
func TestBadInput(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	for _, tc := range []struct{ send, want string }{
		{"", `NO "Empty command"`},
		{"   ", `NO "Empty command"`},
		{"FROBNICATE", `NO "Unknown command"`},
		{`"PUTSCRIPT" "a" "keep;"`, `NO "A command name must be an atom"`},
		{"GETSCRIPT \"a\\x\"", `NO "Only \" and \\ may follow \\ in a quoted string"`},
		{`GETSCRIPT "a`, `NO "Unterminated quoted string"`},
		{"GETSCRIPT \"a\x00b\"", `NO "NUL in a quoted string"`},
		{"GETSCRIPT \x01", `NO "Unexpected character 0x01"`},
		{"GETSCRIPT \xff\xfe", `NO "Unexpected character 0xff"`},
		{`GETSCRIPT "a""b"`, `NO "Expected a space between arguments"`},
		{`PUTSCRIPT {5+} "x"`, `NO "Invalid literal`},
		{`PUTSCRIPT "a" {99999999999+}`, `NO "Invalid literal`},
		{`PUTSCRIPT "a" {-1+}`, `NO "Invalid literal`},
		{`PUTSCRIPT "a" {5++}`, `NO "Invalid literal`},
		{"NOOP {1+}\r\nax", `NO "Expected a space or the end of the line after a literal"`},
		{`HAVESPACE "a" 12x`, `NO "HAVESPACE: the size must be`},
		{"LISTSCRIPTS extra", `NO "LISTSCRIPTS takes no arguments"`},
	} {
		c.no(tc.send, tc.want)
	}
	c.ok("NOOP")

	// A line that does not parse but ends with a literal: the octets are
	// read and dropped, never run as commands.
	inner := "LOGOUT\r\nDELETESCRIPT \"x\"\r\n"
	c.no(`PUTSCRIPT "a\q" `+literal(inner), `NO "Only`)
	c.no("GETSCRIPT \"a\x00\" "+literal(inner)+" "+literal(inner), `NO "NUL`)
	c.ok("NOOP")

	// Bare LF line endings are forgiven.
	c.send("PUTSCRIPT \"lf\" {5+}\nkeep;\nNOOP")
	if _, last := c.response(); last != `OK "Script stored"` {
		t.Fatalf("got %q", last)
	}
	if _, last := c.response(); last != `OK "Done"` {
		t.Fatalf("got %q", last)
	}
}

func TestLineTooLong(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	c.send("NOOP \"" + strings.Repeat("a", defaultMaxLine) + "\"")
	c.bye(`BYE "Command too long"`)
}

// Before login nothing big is read: a literal past the line limit ends the
// session (it could be anything), and so do many small fragments.
func TestPreAuthLimits(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send(`AUTHENTICATE "PLAIN" {100000+}`)
	c.bye(`BYE "Command too long"`)

	c = e.dial()
	c.send("NOOP" + strings.Repeat(" {0+}\r\n", 2000))
	c.bye(`BYE "Command too long"`)

	c = e.dial()
	c.send(`AUTHENTICATE "PLAIN"`)
	c.item()
	c.send(`{100000+}`)
	c.bye(`BYE "SASL response too long"`)
}

// After login, a literal bigger than even a too-big script is worth
// reading ends the session.
func TestHugeLiteral(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	c.send(`PUTSCRIPT "a" {4294967295+}`)
	c.bye(`BYE "Command too long"`)
}

func TestGarbageBeforeLogin(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send("GET / HTTP/1.1")
	c.response()
	c.send("Host: example.com")
	c.response()
	c.send("User-Agent: x")
	c.response()
	c.bye(`BYE "Too many errors"`)
}

func TestThrottle(t *testing.T) {
	th := auth.NewThrottle()
	th.Base, th.Max, th.Limit = time.Millisecond, time.Millisecond, 2
	e := newTestEnv(t, func(s *Server) { s.Throttle = th })
	c := e.dial()
	c.no(`AUTHENTICATE "PLAIN" "`+plain("", "bob@example.com", "x")+`"`, `NO "Authentication failed"`)
	c.no(`AUTHENTICATE "PLAIN" "`+plain("", "bob@example.com", "y")+`"`, `NO "Authentication failed"`)
	c = e.dial()
	c.no(`AUTHENTICATE "PLAIN" "`+plain("", "bob@example.com", "secret")+`"`, `NO (TRYLATER)`)
}

func TestIdleTimeout(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.IdleTimeout = 200 * time.Millisecond })
	c := e.login()
	c.bye(`BYE "Idle for too long"`)
}

func TestShutdown(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	c.ok("NOOP")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.bye(`BYE (TRYLATER) "Server shutting down"`)
}
