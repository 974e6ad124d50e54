package lmtp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

const simpleMsg = "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: hello\r\nMessage-ID: <1@example.org>\r\n\r\nHi Bob.\r\n"

func TestCapabilities(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	caps := c.cmd("LHLO client.test", "250 ")
	for _, want := range []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "SMTPUTF8", "SIZE 52424704"} {
		if !strings.Contains(caps, want) {
			t.Errorf("LHLO reply lacks %s:\n%s", want, caps)
		}
	}
	c.cmd("HELO client.test", "500 5.5.1")
	c.cmd("EHLO client.test", "500 5.5.1")
	c.cmd("NOOP", "250 ")
	c.cmd("QUIT", "221 ")
}

// TestRecipients: one unknown, one over quota at RCPT, one over quota
// after DATA, and two good ones in one transaction; only the good ones
// get the message, stored once.
func TestRecipients(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("RCPT TO:<nobody@example.com>", "550 5.1.1")
	c.cmd("RCPT TO:<full@example.com>", "552 5.2.2")
	c.cmd("RCPT TO:<someone@elsewhere.org>", "550 5.1.2")
	c.cmd("RCPT TO:<tiny@example.com>", "250 ")
	c.cmd("RCPT TO:<carol@example.com>", "250 ")
	big := simpleMsg + strings.Repeat("0123456789abcdef\r\n", 200) // over tiny's 2000 bytes
	got := c.data(big, 3)
	checkCodes(t, got, "250 2.0.0 <bob@example.com>", "552 5.2.2 <tiny@example.com>", "250 2.0.0 <carol@example.com>")

	bob, carol := e.inbox("bob@example.com"), e.inbox("carol@example.com")
	if len(bob) != 1 || len(carol) != 1 || len(e.inbox("tiny@example.com")) != 0 {
		t.Fatalf("inboxes: bob %d, carol %d, tiny %d messages", len(bob), len(carol), len(e.inbox("tiny@example.com")))
	}
	if !bytes.Equal(bob[0], carol[0]) {
		t.Error("bob's and carol's copies differ: the content should be one blob")
	}
	tr := splitTrace(t, bob[0], []byte(big))
	if strings.Contains(tr, "Delivered-To") || strings.Contains(tr, " for <") {
		t.Errorf("trace headers name a recipient of a multi-recipient transaction:\n%s", tr)
	}
	if !strings.HasPrefix(tr, "Return-Path: <alice@example.org>\r\nReceived: from client.test ([127.0.0.1])\r\n\tby mx.test (Letterbox) with LMTP id ") {
		t.Errorf("trace headers:\n%s", tr)
	}
	c.cmd("QUIT", "221 ")
	e.checkClean()
}

// TestTwoDomains: the first account of each domain has the same id in its
// own database; one transaction still reaches both.
func TestTwoDomains(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store.AddDomain(ctx, "example.net"); err != nil {
		t.Fatal(err)
	}
	dave, err := e.store.CreateAccount(ctx, "dave@example.net", "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	bob := e.account("bob@example.com")
	if dave.ID != bob.ID || e.mailbox(dave, "INBOX").ID != e.mailbox(bob, "INBOX").ID {
		t.Fatalf("ids differ (%d, %d): the test would prove nothing", dave.ID, bob.ID)
	}
	c := e.dial()
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("RCPT TO:<dave@example.net>", "250 ")
	checkCodes(t, c.data(simpleMsg, 2), "250 2.0.0 <bob", "250 2.0.0 <dave")
	if len(e.inbox("bob@example.com")) != 1 || len(e.inbox("dave@example.net")) != 1 {
		t.Errorf("bob has %d, dave %d messages", len(e.inbox("bob@example.com")), len(e.inbox("dave@example.net")))
	}
}

func TestSingleRecipientTrace(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	c.cmd("MAIL FROM:<>", "250 ")
	c.cmd("RCPT TO:<Bob+Lists@Example.COM>", "250 ")
	checkCodes(t, c.data(simpleMsg, 1), "250 2.0.0")
	msgs := e.inbox("bob@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	tr := splitTrace(t, msgs[0], []byte(simpleMsg))
	for _, want := range []string{"Return-Path: <>\r\n", "Delivered-To: Bob+Lists@Example.COM\r\n", "\tfor <Bob+Lists@Example.COM>;\r\n"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace headers lack %q:\n%s", want, tr)
		}
	}
	// The same address twice is still one recipient: two replies, one copy.
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<carol@example.com>", "250 ")
	c.cmd("RCPT TO:<Carol@example.com>", "250 ")
	checkCodes(t, c.data(simpleMsg, 2), "250 2.0.0 <carol@example.com>", "250 2.0.0 <Carol@example.com>")
	msgs = e.inbox("carol@example.com")
	if len(msgs) != 1 {
		t.Fatalf("carol has %d messages, want 1", len(msgs))
	}
	if tr := splitTrace(t, msgs[0], []byte(simpleMsg)); !strings.Contains(tr, "Delivered-To: carol@example.com\r\n") {
		t.Errorf("trace headers:\n%s", tr)
	}
}

func TestPipelining(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	// RFC 2920: the whole group in one write, DATA last.
	c.send("MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\n")
	checkCodes(t, []string{c.reply(), c.reply(), c.reply(), c.reply(), c.reply()}, "250 ", "250 ", "550 5.1.1", "250 ", "354 ")
	// The message, the next transaction and a NOOP in one write too.
	c.send(dotStuff(simpleMsg) + ".\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
	checkCodes(t, []string{c.reply(), c.reply(), c.reply(), c.reply(), c.reply()}, "250 2.0.0 <bob", "250 2.0.0 <carol", "250 ", "250 ", "354 ")
	c.send(dotStuff(".leading dot\r\n") + ".\r\nNOOP\r\n")
	checkCodes(t, []string{c.reply(), c.reply()}, "250 2.0.0 <bob", "250 ")
	msgs := e.inbox("bob@example.com")
	if len(msgs) != 2 {
		t.Fatalf("bob has %d messages", len(msgs))
	}
	splitTrace(t, msgs[0], []byte(simpleMsg))
	splitTrace(t, msgs[1], []byte(".leading dot\r\n"))
}

// TestBDAT: CHUNKING (RFC 3030). Chunks are not dot-unstuffed, so a line
// with a single dot is content; the replies after BDAT LAST are per
// recipient.
func TestBDAT(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("RCPT TO:<tiny@example.com>", "250 ")
	c.cmd("RCPT TO:<carol@example.com>", "250 ")
	part1 := "Subject: chunks\r\n\r\nline one\r\n.\r\n"
	part2 := "..two dots stay\r\n" + strings.Repeat("z", 3000) + "\r\n"
	c.send(fmt.Sprintf("BDAT %d\r\n%s", len(part1), part1))
	c.expect("250 ")
	c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(part2), part2))
	checkCodes(t, []string{c.reply(), c.reply(), c.reply()}, "250 2.0.0 <bob", "552 5.2.2 <tiny", "250 2.0.0 <carol")
	msgs := e.inbox("bob@example.com")
	if len(msgs) != 1 {
		t.Fatalf("bob has %d messages", len(msgs))
	}
	splitTrace(t, msgs[0], []byte(part1+part2))

	// Pipelined: commands and chunks in one write; BDAT 0 LAST ends it.
	c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<carol@example.com>\r\nBDAT 5\r\nab\r\nc" + "BDAT 0 LAST\r\n")
	checkCodes(t, []string{c.reply(), c.reply(), c.reply(), c.reply()}, "250 ", "250 ", "250 ", "250 2.0.0 <carol")
	msgs = e.inbox("carol@example.com")
	if len(msgs) != 2 {
		t.Fatalf("carol has %d messages", len(msgs))
	}
	splitTrace(t, msgs[1], []byte("ab\r\nc"))
	c.cmd("NOOP", "250 ")
}

// TestEightBit: 8BITMIME and SMTPUTF8 content and addresses are kept as
// sent.
func TestEightBit(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.CreateAccount(context.Background(), "jörg@example.com", "x", 0); err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	msg := "From: Zoë <zoë@example.org>\r\nSubject: Grüße – ça va?\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÄpfel, Birnen, \xe9t\xe9 (latin-1 byte), 日本語\r\n"
	c.cmd("MAIL FROM:<zoë@example.org> BODY=8BITMIME SMTPUTF8", "250 ")
	c.cmd("RCPT TO:<JÖRG@example.com>", "250 ") // local parts match without case, Unicode too
	checkCodes(t, c.data(msg, 1), "250 2.0.0")
	msgs := e.inbox("jörg@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	tr := splitTrace(t, msgs[0], []byte(msg))
	if !strings.Contains(tr, "Return-Path: <zoë@example.org>\r\nDelivered-To: JÖRG@example.com\r\n") {
		t.Errorf("trace headers:\n%s", tr)
	}
}

// TestSizeLimit: SIZE is refused at MAIL; a message over the limit gets
// 552 5.3.4 for every recipient, nothing is stored, and the session goes
// on.
func TestSizeLimit(t *testing.T) {
	const limit = 64 << 10
	e := newEnv(t, func(c *envConfig) { c.maxSize = limit })
	c := e.dial()
	if caps := c.cmd("LHLO client.test", "250 "); !strings.Contains(caps, fmt.Sprintf("SIZE %d", limit-traceReserve)) {
		t.Errorf("SIZE not advertised as the limit less the trace reserve:\n%s", caps)
	}
	c.cmd(fmt.Sprintf("MAIL FROM:<a@example.org> SIZE=%d", limit), "552 5.3.4")
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("RCPT TO:<carol@example.com>", "250 ")
	huge := "Subject: big\r\n\r\n" + strings.Repeat("y", 100) + "\r\n"
	huge += strings.Repeat(strings.Repeat("x", 998)+"\r\n", 3*limit/1000) // three times the limit
	checkCodes(t, c.data(huge, 2), "552 5.3.4", "552 5.3.4")
	c.cmd("NOOP", "250 ")
	// Just under the advertised SIZE, trace headers and all, it fits.
	// (go-smtp refuses DATA of exactly MaxMessageBytes: its reader fails
	// once the count reaches the limit, before it sees the final dot.)
	fits := "Subject: fits\r\n\r\n"
	fits += strings.Repeat("f", limit-traceReserve-len(fits)-3) + "\r\n"
	c.cmd(fmt.Sprintf("MAIL FROM:<a@example.org> SIZE=%d", len(fits)), "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	checkCodes(t, c.data(fits, 1), "250 2.0.0")
	if n := len(e.inbox("bob@example.com")); n != 1 {
		t.Fatalf("bob has %d messages, want 1", n)
	}
	e.checkClean()
}

// TestLargeMessage: a message bigger than storage's in-memory spool, to
// two recipients, arrives whole.
func TestLargeMessage(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	var b strings.Builder
	b.WriteString("Subject: large\r\nContent-Type: application/octet-stream\r\n\r\n")
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, "%07d %s\r\n", i, strings.Repeat("QUJD", 18))
	}
	msg := b.String()
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("RCPT TO:<carol@example.com>", "250 ")
	checkCodes(t, c.data(msg, 2), "250 2.0.0", "250 2.0.0")
	splitTrace(t, e.inbox("bob@example.com")[0], []byte(msg))
	splitTrace(t, e.inbox("carol@example.com")[0], []byte(msg))
	e.checkClean()
}

func TestQuotaTempfail(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.opts.QuotaFullTempfail = true })
	c := e.dial()
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<full@example.com>", "452 4.2.2")
	c.cmd("RCPT TO:<tiny@example.com>", "250 ")
	checkCodes(t, c.data(simpleMsg+strings.Repeat("x", 3000)+"\r\n", 1), "452 4.2.2")
	// SIZE= larger than the room left is refused at RCPT.
	c.cmd("MAIL FROM:<a@example.org> SIZE=5000", "250 ")
	c.cmd("RCPT TO:<tiny@example.com>", "452 4.2.2")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("RSET", "250 ")
}

func TestAddresses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.store.CreateAccount(ctx, "bob+x@example.com", "x", 0); err != nil {
		t.Fatal(err)
	}
	d := e.srv.Deliverer()
	for _, tt := range []struct {
		addr, account, detail string
		hasDetail             bool
	}{
		{"bob@example.com", "bob@example.com", "", false},
		{"BOB@EXAMPLE.COM", "bob@example.com", "", false},
		{"bob+Lists@example.com", "bob@example.com", "Lists", true},
		{"bob+@example.com", "bob@example.com", "", true},
		{"bob+a+b@example.com", "bob@example.com", "a+b", true},
		{"bob+x@example.com", "bob+x@example.com", "", false}, // the whole local part first
		{"bob@example.com.", "bob@example.com", "", false},
	} {
		rc, rep := d.Resolve(ctx, tt.addr, 0)
		if rep != nil {
			t.Errorf("%s: %v", tt.addr, rep)
			continue
		}
		if rc.Account.Name != tt.account || rc.Detail != tt.detail || rc.HasDetail != tt.hasDetail || rc.Address != tt.addr {
			t.Errorf("%s: account %s, detail %q (%v)", tt.addr, rc.Account.Name, rc.Detail, rc.HasDetail)
		}
	}
	for addr, code := range map[string]string{
		"+bob@example.com":       "550 5.1.1",
		"bob@[127.0.0.1]":        "550 5.1.2",
		"bob@exämple.com":        "550 5.1.2",
		"bob@nowhere.test":       "550 5.1.2",
		"bob":                    "501 5.1.3",
		"bob@":                   "501 5.1.3",
		"bo\x01b@example.com":    "501 5.1.3",
		"bob@exa mple.com":       "501 5.1.3",
		strings.Repeat("b", 600): "501 5.1.3",
	} {
		_, rep := d.Resolve(ctx, addr, 0)
		if got := replyLine(rep); !strings.HasPrefix(got, code) {
			t.Errorf("%q: %q, want %s", addr, got, code)
		}
	}

	cs := newEnv(t, func(c *envConfig) { c.opts.CaseSensitiveLocalParts = true; c.opts.RecipientDelimiter = "-+" })
	d = cs.srv.Deliverer()
	for addr, want := range map[string]string{
		"bob@EXAMPLE.com":       "bob@example.com",
		"Bob@example.com":       "",
		"bob-Lists@example.com": "bob@example.com",
		"Bob-lists@example.com": "",
	} {
		rc, rep := d.Resolve(ctx, addr, 0)
		switch {
		case want == "" && rep == nil:
			t.Errorf("%s reached %s with case-sensitive local parts", addr, rc.Account.Name)
		case want != "" && (rep != nil || rc.Account.Name != want):
			t.Errorf("%s: %v, want %s", addr, rep, want)
		}
	}
}

func replyLine(r *smtp.SMTPError) string {
	if r == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.EnhancedCode[0], r.EnhancedCode[1], r.EnhancedCode[2], r.Message)
}

// TestEvents: a delivery wakes a watcher of the mailbox (what IMAP IDLE
// waits on) within a second.
func TestEvents(t *testing.T) {
	e := newEnv(t)
	bob := e.account("bob@example.com")
	w := e.store.Watch(bob, e.mailbox(bob, "INBOX").ID)
	defer w.Close()
	c := e.dial()
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	sent := time.Now()
	checkCodes(t, c.data(simpleMsg, 1), "250 ")
	select {
	case <-w.C:
	case <-time.After(time.Second - time.Since(sent)):
		t.Fatal("no change event within a second of the delivery")
	}
}

func TestUnixSocket(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.socket = true })
	if e.addr != filepath.Join(e.dir, "lmtp.sock") {
		t.Fatalf("listening on %s", e.addr)
	}
	c := e.dial()
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	checkCodes(t, c.data(simpleMsg, 1), "250 ")
	tr := splitTraceAny(t, e.inbox("bob@example.com")[0], []byte(simpleMsg))
	if !strings.Contains(tr, "Received: from client.test\r\n\tby mx.test") {
		t.Errorf("trace headers over a unix socket:\n%s", tr)
	}
}

// splitTraceAny is splitTrace for a Received line with no TCP-info.
func splitTraceAny(t *testing.T, stored, want []byte) string {
	t.Helper()
	if !bytes.HasSuffix(stored, want) {
		t.Fatalf("stored message does not end with the original:\n%q", head(stored))
	}
	return string(stored[:len(stored)-len(want)])
}

// TestConcurrent: many sessions deliver at once; each gets its 250s and
// every message is there once (the writes share group commits).
func TestConcurrent(t *testing.T) {
	e := newEnv(t)
	const sessions, each = 8, 15
	var wg sync.WaitGroup
	for s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.dial()
			for i := range each {
				c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\n")
				for range 4 {
					c.reply()
				}
				c.send(dotStuff(fmt.Sprintf("Message-ID: <%d.%d@test>\r\n\r\nbody %d %d\r\n", s, i, s, i)) + ".\r\n")
				for range 2 {
					if r := c.reply(); !strings.HasPrefix(r, "250 ") {
						t.Errorf("session %d message %d: %s", s, i, r)
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, who := range []string{"bob@example.com", "carol@example.com"} {
		seen := map[string]bool{}
		for _, m := range e.inbox(who) {
			id := string(m[bytes.Index(m, []byte("Message-ID:")):])
			if seen[id] {
				t.Errorf("%s: duplicate %q", who, id)
			}
			seen[id] = true
		}
		if len(seen) != sessions*each {
			t.Errorf("%s has %d messages, want %d", who, len(seen), sessions*each)
		}
	}
	e.checkClean()
}

func TestConnectionLimit(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.opts.MaxConnectionsPerIP = 2 })
	c1, c2 := e.dial(), e.dial()
	raw, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	third := &client{t: t, c: raw, r: bufio.NewReader(raw)}
	third.expect("421 4.7.0")
	c1.cmd("QUIT", "221 ")
	c1.c.Close()
	// The slot is free again once the server has seen the close.
	deadline := time.Now().Add(5 * time.Second)
	for {
		raw, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		c := &client{t: t, c: raw, r: bufio.NewReader(raw)}
		r := c.reply()
		raw.Close()
		if strings.HasPrefix(r, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused after a connection closed: %s", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c2.cmd("NOOP", "250 ")
}

// TestShutdown: a transaction in flight finishes and gets its 250; a new
// one is refused with 421; then the connections close.
func TestShutdown(t *testing.T) {
	e := newEnv(t)
	busy, idle := e.dial(), e.dial()
	busy.cmd("MAIL FROM:<a@example.org>", "250 ")
	busy.cmd("RCPT TO:<bob@example.com>", "250 ")
	busy.cmd("DATA", "354 ")
	busy.send("Subject: half\r\n\r\nfirst half\r\n")

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- e.srv.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned during a transaction: %v", err)
	default:
	}
	idle.cmd("MAIL FROM:<a@example.org>", "421 4.3.2")
	busy.send("second half\r\n.\r\n")
	busy.expect("250 2.0.0")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := idle.r.ReadString('\n'); err == nil {
		t.Error("idle connection still open after Shutdown")
	}
	if msgs := e.inbox("bob@example.com"); len(msgs) != 1 {
		t.Fatalf("bob has %d messages", len(msgs))
	}
}
