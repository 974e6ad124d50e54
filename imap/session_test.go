package imap

import (
	"strings"
	"testing"
)

func TestGreetingLoginLogout(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	u, st := c.cmd("CAPABILITY")
	if !strings.HasPrefix(st, "OK") || len(u) != 1 || !strings.Contains(u[0], "IMAP4rev2") || !strings.Contains(u[0], "AUTH=PLAIN") {
		t.Fatalf("capability %q %q", u, st)
	}
	if _, st := c.cmd("LOGIN bob@example.com wrong"); !strings.HasPrefix(st, "NO [AUTHENTICATIONFAILED]") {
		t.Fatalf("bad login: %s", st)
	}
	if _, st := c.cmd("SELECT INBOX"); !strings.HasPrefix(st, "BAD") {
		t.Fatalf("select before login: %s", st)
	}
	u = c.ok("LOGIN bob@example.com secret")
	_ = u
	u = c.ok("LIST \"\" *")
	if len(u) != 6 || !strings.Contains(strings.Join(u, "\n"), `* LIST (\HasNoChildren \Sent) "/" Sent`) {
		t.Fatalf("list %q", u)
	}
	u, st = c.cmd("LOGOUT")
	if st != "OK LOGOUT completed" || len(u) != 1 || !strings.HasPrefix(u[0], "* BYE") {
		t.Fatalf("logout %q %q", u, st)
	}
}

func TestUnknownCommandBeforeLoginCloses(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send("GET / HTTP/1.1\r\n")
	if l := c.line(); !strings.HasPrefix(l, "* BYE") {
		t.Fatalf("got %q", l)
	}
}
