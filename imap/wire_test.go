package imap

import (
	"crypto/tls"
	"math/big"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"letterbox/internal/testcert"
)

func TestLiterals(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	// Synchronising literal: the server asks for it.
	c.send("a LOGIN {15}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("no continuation: %q", l)
	}
	c.send("bob@example.com {6}\r\n")
	if l := c.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("no continuation: %q", l)
	}
	c.send("secret\r\n")
	if l := c.line(); !strings.HasPrefix(l, "a OK") {
		t.Fatalf("login with literals: %q", l)
	}
	// LITERAL+: no continuation, and APPEND streams the message.
	msg := "Subject: lit\r\n\r\n" + strings.Repeat("x", 10000) + "\r\n"
	c.send("b APPEND INBOX (\\Seen) {" + itoa(len(msg)) + "+}\r\n" + msg + "\r\n")
	if l := c.line(); !strings.HasPrefix(l, "b OK [APPENDUID") {
		t.Fatalf("append: %q", l)
	}
	// MULTIAPPEND with one bad message: nothing stored.
	c.send("c APPEND INBOX {3+}\r\nabc {3+}\r\ndef\r\n")
	if l := c.line(); !strings.HasPrefix(l, "c OK [APPENDUID") || !strings.Contains(l, ":") {
		t.Fatalf("multiappend: %q", l)
	}
	u := c.ok("STATUS INBOX (MESSAGES)")
	if u[0] != "* STATUS INBOX (MESSAGES 3)" {
		t.Fatalf("status %q", u)
	}
	// A literal too big for a non-APPEND argument is refused, the session goes on.
	c.send("d SUBSCRIBE {2000000+}\r\n")
	c.send(strings.Repeat("y", 2000000) + "\r\n")
	if l := c.line(); !strings.HasPrefix(l, "d BAD") {
		t.Fatalf("huge literal: %q", l)
	}
	c.ok("NOOP")
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func TestBadInputSessionGoesOn(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	for _, bad := range []string{
		"FROB", "SELECT", "SELECT \"unterminated", "FETCH 1 (FLAGS)", "LIST", "STATUS INBOX (NOPE)",
		"CREATE a/../b", "APPEND", "SEARCH", "LOGIN x y", "UID NOPE 1", "CREATE " + strings.Repeat("(", 100),
		"RENAME INBOX", "STORE 1 +FLAGS (\\Seen)", "ENABLE", "ID (\"a\"",
	} {
		_, st := c.cmd(bad)
		if !strings.HasPrefix(st, "BAD") && !strings.HasPrefix(st, "NO") {
			t.Errorf("%q: %q", bad, st)
		}
	}
	c.send("x " + strings.Repeat("A", maxLine+10) + "\r\n")
	if l := c.line(); !strings.Contains(l, "BAD") {
		t.Fatalf("long line: %q", l)
	}
	c.ok("NOOP")
	// Pipelined commands are answered in order.
	c.send("p1 NOOP\r\np2 CAPABILITY\r\np3 NAMESPACE\r\n")
	var tags []string
	for len(tags) < 3 {
		l := c.line()
		if strings.HasPrefix(l, "p") {
			tags = append(tags, l[:2])
		}
	}
	if strings.Join(tags, ",") != "p1,p2,p3" {
		t.Fatalf("pipelined order %v", tags)
	}
}

func TestMailboxNameEncodings(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	// IMAP4rev1: modified UTF-7 on the wire.
	c.ok("CREATE \"Entw&APw-rfe\"")
	u := c.ok("LIST \"\" \"Entw*\"")
	if len(u) != 1 || !strings.HasSuffix(u[0], `"/" Entw&APw-rfe`) {
		t.Fatalf("rev1 list %q", u)
	}
	if _, err := e.store.Mailbox(t.Context(), e.acct, "Entwürfe"); err != nil {
		t.Fatalf("stored name: %v", err)
	}
	if _, st := c.cmd("CREATE \"&Jjo!\""); !strings.HasPrefix(st, "NO") {
		t.Fatalf("bad UTF-7 accepted: %s", st)
	}
	// IMAP4rev2: UTF-8, ESEARCH, LIST in SELECT.
	u = c.ok("ENABLE IMAP4rev2")
	if u[0] != "* ENABLED IMAP4rev2" {
		t.Fatalf("enable %q", u)
	}
	u = c.ok("LIST \"\" \"Entw*\"")
	if len(u) != 1 || !strings.HasSuffix(u[0], `"/" "Entwürfe"`) {
		t.Fatalf("rev2 list %q", u)
	}
	e.appendMsg("INBOX", "Subject: a\r\n\r\nb\r\n")
	u = c.ok("SELECT INBOX")
	if !strings.Contains(strings.Join(u, "\n"), `* LIST () "/" INBOX`) || strings.Contains(strings.Join(u, "\n"), "RECENT") {
		t.Fatalf("rev2 select %q", u)
	}
	u = c.ok("SEARCH ALL")
	if len(u) != 1 || !strings.HasPrefix(u[0], `* ESEARCH (TAG "T`) || !strings.HasSuffix(u[0], "ALL 1") {
		t.Fatalf("rev2 search %q", u)
	}
	u = c.ok("UID SEARCH RETURN (COUNT MIN) ALL")
	if !strings.HasSuffix(u[0], "UID MIN 1 COUNT 1") {
		t.Fatalf("esearch %q", u)
	}
}

// RFC 9051 section 7.5.1: an expunge by another session is not announced
// during FETCH by sequence number, but is at NOOP.
func TestNoExpungeDuringFetch(t *testing.T) {
	e := newTestEnv(t)
	for i := 0; i < 3; i++ {
		e.appendMsg("INBOX", "Subject: m\r\n\r\nx\r\n")
	}
	a := e.login()
	a.ok("SELECT INBOX")
	b := e.login()
	b.ok("SELECT INBOX")
	b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
	b.ok("EXPUNGE")
	u := a.ok("SEARCH ALL")
	for _, l := range u {
		if strings.Contains(l, "EXPUNGE") {
			t.Fatalf("EXPUNGE during SEARCH: %q", u)
		}
	}
	u = a.ok("NOOP")
	if !strings.Contains(strings.Join(u, "\n"), "* 2 EXPUNGE") {
		t.Fatalf("NOOP did not announce the expunge: %q", u)
	}
	u = a.ok("SEARCH ALL")
	if u[len(u)-1] != "* SEARCH 1 2" {
		t.Fatalf("after expunge %q", u)
	}
}

func TestTLS(t *testing.T) {
	e := newTestEnv(t, func(s *Server) {
		s.TLS = testcert.New(t, "localhost", "127.0.0.1").Server
		s.CleartextAllowed = func(net.Addr) bool { return false }
	})
	// Cleartext: LOGINDISABLED, no AUTH=, LOGIN refused.
	c := e.dial()
	u := c.ok("CAPABILITY")
	if !strings.Contains(u[0], "LOGINDISABLED") || !strings.Contains(u[0], "STARTTLS") || strings.Contains(u[0], "AUTH=") {
		t.Fatalf("cleartext capabilities %q", u)
	}
	if _, st := c.cmd("LOGIN bob@example.com secret"); !strings.HasPrefix(st, "NO [PRIVACYREQUIRED]") {
		t.Fatalf("cleartext login: %s", st)
	}
	clientTLS := &tls.Config{InsecureSkipVerify: true}
	// STARTTLS on the same listener.
	sc, err := imapclient.DialStartTLS(e.addr, &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Login("bob@example.com", "secret").Wait(); err != nil {
		t.Fatalf("login after STARTTLS: %v", err)
	}
	sc.Close()
	// Implicit TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(ln, true)
	tc, err := imapclient.DialTLS(ln.Addr().String(), &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if err := tc.Login("bob@example.com", "secret").Wait(); err != nil {
		t.Fatalf("login over implicit TLS: %v", err)
	}
	if _, err := tc.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	// SASL-IR PLAIN: \0user\0pass
	_, st := c.cmd("AUTHENTICATE PLAIN AGJvYkBleGFtcGxlLmNvbQBzZWNyZXQ=")
	if !strings.HasPrefix(st, "OK") {
		t.Fatalf("plain: %s", st)
	}
	c = e.dial()
	c.send("a AUTHENTICATE LOGIN\r\n")
	if l := c.line(); l != "+ VXNlcm5hbWU6" {
		t.Fatalf("login step 1 %q", l)
	}
	c.send("Ym9iQGV4YW1wbGUuY29t\r\n")
	if l := c.line(); l != "+ UGFzc3dvcmQ6" {
		t.Fatalf("login step 2 %q", l)
	}
	c.send("c2VjcmV0\r\n")
	if l := c.line(); !strings.HasPrefix(l, "a OK") {
		t.Fatalf("login mech: %q", l)
	}
	c = e.dial()
	c.send("b AUTHENTICATE PLAIN\r\n")
	c.line()
	c.send("*\r\n")
	if l := c.line(); !strings.HasPrefix(l, "b BAD") {
		t.Fatalf("cancel: %q", l)
	}
}
