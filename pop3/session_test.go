package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"letterbox/storage"
)

const (
	msg1 = "From: a@example.org\r\nSubject: one\r\n\r\nline 1\r\n.dotted line\r\n..two dots\r\nlast\r\n"
	msg2 = "Subject: two\r\n\r\nhello\r\n.\r\nbye\r\n"
)

// stored reads a message's bytes straight from storage.
func (e *testEnv) stored(uid storage.UID) string {
	e.t.Helper()
	c, err := e.store.Open(context.Background(), e.acct, e.inbox.ID, uid)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c.Reader())
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func (e *testEnv) messages() []storage.Message {
	e.t.Helper()
	msgs, err := e.store.Messages(context.Background(), e.acct, e.inbox.ID, nil, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

func TestSession(t *testing.T) {
	e := newTestEnv(t)
	u1, u2 := e.deliver(msg1), e.deliver(msg2)
	s1, s2 := len(e.stored(u1)), len(e.stored(u2))

	c := e.dial()
	caps := c.lines("CAPA")
	want := []string{"TOP", "UIDL", "USER", "SASL PLAIN LOGIN", "STLS", "RESP-CODES", "AUTH-RESP-CODE",
		"PIPELINING", "EXPIRE NEVER", "IMPLEMENTATION Letterbox"}
	if strings.Join(caps, "|") != strings.Join(want, "|") {
		t.Fatalf("CAPA %q, want %q", caps, want)
	}
	c.ok("USER bob@example.com")
	if r := c.ok("PASS secret"); !strings.Contains(r, "2 messages") {
		t.Fatalf("PASS: %q", r)
	}
	if caps := c.lines("CAPA"); strings.Contains(strings.Join(caps, " "), "STLS") || !strings.Contains(strings.Join(caps, " "), "SASL") {
		t.Fatalf("CAPA after login: %q", caps)
	}
	if r := c.ok("STAT"); r != fmt.Sprintf("+OK 2 %d", s1+s2) {
		t.Fatalf("STAT %q", r)
	}
	if l := c.lines("LIST"); strings.Join(l, "|") != fmt.Sprintf("1 %d|2 %d", s1, s2) {
		t.Fatalf("LIST %q", l)
	}
	if r := c.ok("LIST 2"); r != fmt.Sprintf("+OK 2 %d", s2) {
		t.Fatalf("LIST 2: %q", r)
	}
	uidl := func(uid storage.UID) string { return fmt.Sprintf("%08x%08x", e.inbox.UIDValidity, uint32(uid)) }
	if l := c.lines("UIDL"); strings.Join(l, "|") != "1 "+uidl(u1)+"|2 "+uidl(u2) {
		t.Fatalf("UIDL %q", l)
	}
	if r := c.ok("UIDL 1"); r != "+OK 1 "+uidl(u1) {
		t.Fatalf("UIDL 1: %q", r)
	}

	// RETR: the stored bytes, dot-stuffed on the wire.
	status, wire := c.multi("RETR 1")
	if status != fmt.Sprintf("+OK %d octets", s1) {
		t.Fatalf("RETR status %q", status)
	}
	if !strings.Contains(wire, "\r\n..dotted line\r\n...two dots\r\n") {
		t.Fatalf("RETR 1 not dot-stuffed: %q", wire)
	}
	if got := unstuff(wire); got != msg1 {
		t.Fatalf("RETR 1 = %q, want %q", got, msg1)
	}
	if got := c.retr(2); got != e.stored(u2) || len(got) != s2 {
		t.Fatalf("RETR 2 = %q", got)
	}

	// TOP: header, blank line, n body lines.
	if _, b := c.multi("TOP 1 0"); unstuff(b) != "From: a@example.org\r\nSubject: one\r\n\r\n" {
		t.Fatalf("TOP 1 0 = %q", b)
	}
	if _, b := c.multi("TOP 1 2"); unstuff(b) != "From: a@example.org\r\nSubject: one\r\n\r\nline 1\r\n.dotted line\r\n" {
		t.Fatalf("TOP 1 2 = %q", b)
	}
	if _, b := c.multi("TOP 1 1000"); unstuff(b) != msg1 {
		t.Fatalf("TOP 1 1000 = %q", b)
	}

	// DELE marks; RSET unmarks; nothing changes before QUIT.
	c.ok("DELE 1")
	if r := c.ok("STAT"); r != fmt.Sprintf("+OK 1 %d", s2) {
		t.Fatalf("STAT after DELE: %q", r)
	}
	if l := c.lines("LIST"); strings.Join(l, "|") != fmt.Sprintf("2 %d", s2) {
		t.Fatalf("LIST after DELE %q", l)
	}
	c.err("RETR 1")
	c.err("DELE 1")
	c.err("LIST 1")
	c.err("UIDL 1")
	if r := c.ok("RSET"); !strings.Contains(r, "2 messages") {
		t.Fatalf("RSET %q", r)
	}
	c.ok("NOOP")
	c.ok("RETR 1")
	c.r.ReadString('\n') // rest of message 1 follows; skip to the end
	for l := ""; l != ".\r\n"; l, _ = c.r.ReadString('\n') {
	}
	c.ok("DELE 1")
	if n := len(e.messages()); n != 2 {
		t.Fatalf("before QUIT the server has %d messages", n)
	}
	if r := c.ok("QUIT"); !strings.Contains(r, "1 messages left") {
		t.Fatalf("QUIT %q", r)
	}
	c.expectClosed()

	msgs := e.messages()
	if len(msgs) != 1 || msgs[0].UID != u2 {
		t.Fatalf("after QUIT: %+v", msgs)
	}
	// RSET undid the \Seen of the first RETR 2; nothing was retrieved after.
	if msgs[0].Flags.Seen {
		t.Fatalf("message 2 is \\Seen after RSET")
	}
}

func TestGreetingAndAuthorizationQuit(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	// The greeting carries an APOP timestamp naming the host, new each time.
	re := regexp.MustCompile(`^\+OK .*<[0-9a-f]+\.[0-9]+@pop\.example\.com>$`)
	if !re.MatchString(c.greeting) {
		t.Fatalf("greeting %q", c.greeting)
	}
	if r := c.ok("QUIT"); r != "+OK Letterbox POP3 server signing off" {
		t.Fatalf("QUIT %q", r)
	}
	c.expectClosed()
	if c2 := e.dial(); c2.greeting == c.greeting {
		t.Fatal("two greetings with the same timestamp")
	}
}

// TestRetrSizes checks, for awkward contents, that LIST's size is what
// RETR sends before stuffing, and that the bytes come back intact, over
// the SQL blob store's chunk boundaries too.
func TestRetrSizes(t *testing.T) {
	e := newTestEnv(t)
	var big strings.Builder
	big.WriteString("Subject: big\r\n\r\n")
	for i := 0; big.Len() < 1<<20; i++ {
		// Lines of varying length, many starting with dots, so that a dot
		// lands at every kind of buffer boundary.
		fmt.Fprintf(&big, "%s%s\r\n", strings.Repeat(".", i%3), strings.Repeat("x", (i*7919)%997))
	}
	contents := []string{
		msg1,
		"Subject: dots\r\n\r\n.\r\n..\r\n...\r\n. \r\n",
		".starts with a dot: no header\r\n",
		"Subject: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9 \x00\x01\xff\r\n",
		"Subject: bare CR\r\n\r\nthis\rhas\r\n\ra CR\r\n",
		big.String(),
	}
	var uids []storage.UID
	for _, m := range contents {
		uids = append(uids, e.deliver(m))
	}
	c := e.login()
	for i, uid := range uids {
		want := e.stored(uid)
		if want != contents[i] {
			t.Fatalf("message %d stored differently", i+1)
		}
		r := c.ok(fmt.Sprintf("LIST %d", i+1))
		if r != fmt.Sprintf("+OK %d %d", i+1, len(want)) {
			t.Fatalf("LIST %d: %q, stored %d bytes", i+1, r, len(want))
		}
		if got := c.retr(i + 1); got != want {
			t.Fatalf("RETR %d: %d bytes differ from the %d stored", i+1, len(got), len(want))
		}
	}
}

// TestNoFinalLineEnding: a message stored without a final CRLF (possible
// through IMAP APPEND) is closed with one before the terminating dot.
func TestNoFinalLineEnding(t *testing.T) {
	e := newTestEnv(t)
	e.deliver("Subject: x\r\n\r\nno newline at the end")
	c := e.login()
	_, wire := c.multi("RETR 1")
	if wire != "Subject: x\r\n\r\nno newline at the end\r\n" {
		t.Fatalf("RETR %q", wire)
	}
	_, wire = c.multi("TOP 1 5")
	if wire != "Subject: x\r\n\r\nno newline at the end\r\n" {
		t.Fatalf("TOP %q", wire)
	}
}

func TestPipelining(t *testing.T) {
	e := newTestEnv(t)
	e.deliver(msg1)
	e.deliver(msg2)
	c := e.dial()
	c.send("USER bob@example.com\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 2\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n")
	var got []string
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			break
		}
		got = append(got, strings.TrimSuffix(l, "\r\n"))
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{"+OK Send PASS", "+OK Maildrop locked", "+OK 2 ", "+OK 2 messages", "hello", "+OK 1 ", "+OK\n", "signing off"} {
		if !strings.Contains(text, want) {
			t.Fatalf("pipelined replies lack %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "+OK"); n != 8 {
		t.Fatalf("%d +OK replies, want 8:\n%s", n, text)
	}
}

// TestSnapshot: messages delivered during a session appear at the next
// login; a message expunged by IMAP during it fails RETR, nothing else.
func TestSnapshot(t *testing.T) {
	e := newTestEnv(t)
	u1 := e.deliver(msg1)
	e.deliver(msg2)
	c := e.login()
	e.deliver("Subject: three\r\n\r\nlate\r\n")
	if r := c.ok("STAT"); !strings.HasPrefix(r, "+OK 2 ") {
		t.Fatalf("STAT during session: %q", r)
	}
	c.err("RETR 3")

	// IMAP expunges message 1 under us.
	ctx := context.Background()
	set := storage.UIDSetOf(u1)
	if _, err := e.store.StoreFlags(ctx, e.acct, e.inbox.ID, set, storage.StoreRequest{Mode: storage.StoreAdd, Flags: []string{storage.FlagDeleted}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Expunge(ctx, e.acct, e.inbox.ID, set); err != nil {
		t.Fatal(err)
	}
	if r := c.err("RETR 1"); !strings.Contains(r, "deleted by another session") {
		t.Fatalf("RETR of an expunged message: %q", r)
	}
	c.err("TOP 1 0")
	if got := c.retr(2); !strings.Contains(got, "hello") {
		t.Fatalf("RETR 2 = %q", got)
	}
	c.ok("DELE 1") // already gone: DELE and QUIT still succeed
	c.ok("QUIT")
	c.expectClosed()

	c = e.login()
	if r := c.ok("STAT"); !strings.HasPrefix(r, "+OK 2 ") {
		t.Fatalf("STAT at next login: %q", r)
	}
	if got := c.retr(2); !strings.Contains(got, "late") {
		t.Fatalf("new message: %q", got)
	}
}

// TestInUse: one POP3 session per maildrop; the second login is told
// [IN-USE] and stays in AUTHORIZATION; the lock goes with the session,
// however it ends.
func TestInUse(t *testing.T) {
	e := newTestEnv(t)
	e.deliver(msg1)
	a := e.login()
	b := e.dial()
	b.ok("USER bob@example.com")
	if r := b.err("PASS secret"); !strings.HasPrefix(r, "-ERR [IN-USE] ") {
		t.Fatalf("second login: %q", r)
	}
	b.err("STAT") // still AUTHORIZATION
	// Other access to the mailbox is not locked out.
	if n := len(e.messages()); n != 1 {
		t.Fatal(n)
	}
	e.deliver(msg2)
	a.ok("QUIT")
	a.expectClosed()
	b.ok("USER bob@example.com")
	b.ok("PASS secret")
	if r := b.ok("STAT"); !strings.HasPrefix(r, "+OK 2 ") {
		t.Fatalf("STAT %q", r)
	}
	// A dropped connection releases the lock too.
	b.nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := e.dial()
		c.ok("USER bob@example.com")
		r := c.cmd("PASS secret")
		if strings.HasPrefix(r, "+OK") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock not released after a dropped connection: %q", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestQuitExpungesAtQuitOnly proves the issue's "a message deleted over
// POP3 disappears from an IMAP session in IDLE at QUIT time" through the
// storage events an IMAP IDLE session waits on (Watch) and the question it
// then asks (Changes): nothing before QUIT, exactly the DELE'd UIDs at it.
func TestQuitExpungesAtQuitOnly(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	u1, u2, u3 := e.deliver(msg1), e.deliver(msg2), e.deliver("Subject: 3\r\n\r\nthree\r\n")
	mb, err := e.store.MailboxByID(ctx, e.acct, e.inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	since := mb.HighestModSeq
	w := e.store.Watch(e.acct, e.inbox.ID)
	defer w.Close()

	c := e.login()
	c.ok("DELE 1")
	c.ok("DELE 3")
	c.retr(2)
	c.ok("NOOP")
	select {
	case <-w.C:
		t.Fatal("a watcher was woken before QUIT")
	case <-time.After(200 * time.Millisecond):
	}
	if ch, err := e.store.Changes(ctx, e.acct, e.inbox.ID, since); err != nil || len(ch.Vanished) > 0 || len(ch.Changed) > 0 {
		t.Fatalf("changes before QUIT: %+v, %v", ch, err)
	}
	c.ok("QUIT")
	select {
	case <-w.C:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up at QUIT")
	}
	ch, err := e.store.Changes(ctx, e.acct, e.inbox.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ch.Vanished) != fmt.Sprint([]storage.UID{u1, u3}) {
		t.Fatalf("vanished %v, want [%d %d]", ch.Vanished, u1, u3)
	}
	if len(ch.Changed) != 1 || ch.Changed[0].UID != u2 || !ch.Changed[0].Flags.Seen {
		t.Fatalf("changed %+v, want message %d \\Seen", ch.Changed, u2)
	}
}

// TestNoUpdateWithoutQuit: RFC 1939 section 6, a session that ends any
// other way than QUIT deletes nothing.
func TestNoUpdateWithoutQuit(t *testing.T) {
	e := newTestEnv(t)
	e.deliver(msg1)
	c := e.login()
	c.ok("DELE 1")
	c.nc.Close()
	// Wait for the server to notice, by taking the lock.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c = e.dial()
		c.ok("USER bob@example.com")
		if strings.HasPrefix(c.cmd("PASS secret"), "+OK") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("session did not end")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := c.ok("STAT"); !strings.HasPrefix(r, "+OK 1 ") {
		t.Fatalf("STAT %q: the dropped session deleted its marks", r)
	}
}

// TestUIDLStable: imported UIDLs are served as they were, derived ones
// depend only on UIDVALIDITY and UID, and neither changes when other
// messages go.
func TestUIDLStable(t *testing.T) {
	e := newTestEnv(t)
	e.deliver(msg1, storage.AppendOptions{UIDL: "000001234.dovecot-uidl"})
	u2 := e.deliver(msg2)
	e.deliver("Subject: bad uidl\r\n\r\nx\r\n", storage.AppendOptions{UIDL: "has a space"})
	u4 := e.deliver("Subject: 4\r\n\r\nx\r\n", storage.AppendOptions{UIDL: "keep-me"})
	derived := func(uid storage.UID) string { return fmt.Sprintf("%08x%08x", e.inbox.UIDValidity, uint32(uid)) }

	c := e.login()
	first := c.lines("UIDL")
	want := []string{"1 000001234.dovecot-uidl", "2 " + derived(u2), "3 " + derived(u2+1), "4 keep-me"}
	if strings.Join(first, "|") != strings.Join(want, "|") {
		t.Fatalf("UIDL %q, want %q", first, want)
	}
	c.ok("DELE 1")
	c.ok("QUIT")
	c.expectClosed()
	c = e.login()
	if l := c.lines("UIDL"); strings.Join(l, "|") != "1 "+derived(u2)+"|2 "+derived(u2+1)+"|3 keep-me" {
		t.Fatalf("UIDL after a deletion %q", l)
	}
	_ = u4
}

func TestImplicitTLS(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.CleartextAllowed = nil })
	e.deliver(msg1)
	c := e.dialTLS()
	caps := strings.Join(c.lines("CAPA"), " ")
	if strings.Contains(caps, "STLS") || !strings.Contains(caps, "USER") {
		t.Fatalf("CAPA over TLS: %q", caps)
	}
	c.ok("USER bob@example.com")
	c.ok("PASS secret")
	if got := c.retr(1); got != msg1 {
		t.Fatalf("RETR over TLS %q", got)
	}
	c.ok("QUIT")
}

func TestSTLS(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.CleartextAllowed = nil })
	e.deliver(msg1)
	c := e.dial()
	caps := strings.Join(c.lines("CAPA"), " ")
	if !strings.Contains(caps, "STLS") || strings.Contains(caps, "USER") || strings.Contains(caps, "SASL") {
		t.Fatalf("CAPA before STLS: %q", caps)
	}
	// Cleartext passwords are refused before TLS, with [AUTH].
	for _, cmd := range []string{"USER bob@example.com", "APOP bob@example.com 0123456789abcdef0123456789abcdef", "AUTH PLAIN AGJvYkBleGFtcGxlLmNvbQBzZWNyZXQ="} {
		if r := c.err(cmd); !strings.HasPrefix(r, "-ERR [AUTH] ") || !strings.Contains(r, "STLS") {
			t.Fatalf("%s before TLS: %q", cmd, r)
		}
	}
	c.err("STLS now")
	// Commands pipelined behind STLS are refused, not run under TLS later.
	c.send("STLS\r\nNOOP\r\n")
	if r := c.line(); !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("STLS with data behind it: %q", r)
	}
	if r := c.line(); !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("NOOP before login: %q", r)
	}
	c.ok("STLS")
	tc := tls.Client(c.nc, &tls.Config{RootCAs: e.roots, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.nc, c.r = tc, bufio.NewReader(tc)
	caps = strings.Join(c.lines("CAPA"), " ")
	if strings.Contains(caps, "STLS") || !strings.Contains(caps, "USER") || !strings.Contains(caps, "SASL PLAIN LOGIN") {
		t.Fatalf("CAPA after STLS: %q", caps)
	}
	c.err("STLS")
	c.ok("USER bob@example.com")
	c.ok("PASS secret")
	if got := c.retr(1); got != msg1 {
		t.Fatalf("RETR after STLS %q", got)
	}
	if r := c.err("STLS"); !strings.Contains(r, "TRANSACTION") {
		t.Fatalf("STLS after login: %q", r)
	}
	c.ok("QUIT")
}

// TestCleartextNeverWithoutTLS: no TLS configured and cleartext not
// allowed: nothing can log in, and the refusal does not suggest STLS.
func TestCleartextNeverWithoutTLS(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.CleartextAllowed = nil; s.TLS = nil })
	c := e.dial()
	caps := strings.Join(c.lines("CAPA"), " ")
	if strings.Contains(caps, "STLS") || strings.Contains(caps, "USER") || strings.Contains(caps, "SASL") {
		t.Fatalf("CAPA %q", caps)
	}
	if r := c.err("USER bob@example.com"); !strings.HasPrefix(r, "-ERR [AUTH] ") || strings.Contains(r, "STLS") {
		t.Fatalf("USER: %q", r)
	}
	c.err("STLS")
	if l := c.lines("AUTH"); len(l) != 0 {
		t.Fatalf("AUTH lists %q", l)
	}
}
