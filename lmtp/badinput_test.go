package lmtp

import (
	"fmt"
	"strings"
	"testing"
)

// TestBadInput sends, in one session, each kind of bad input the issue
// lists. Each gets its reply, nothing half-written stays behind, and the
// session goes on: a good message after each one is delivered.
func TestBadInput(t *testing.T) {
	const limit = 256 << 10
	e := newEnv(t, func(c *envConfig) { c.maxSize = limit })
	c := e.dial()
	delivered := 0
	good := func(name string) {
		t.Helper()
		c.cmd("MAIL FROM:<a@example.org>", "250 ")
		c.cmd("RCPT TO:<carol@example.com>", "250 ")
		checkCodes(t, c.data("Subject: after "+name+"\r\n\r\nstill here\r\n", 1), "250 2.0.0")
		delivered++
	}
	// stores sends msg (as DATA, dot-stuffed) to bob and checks that the
	// stored copy is the trace headers plus want.
	stores := func(name, msg, want string) {
		t.Helper()
		c.cmd("MAIL FROM:<a@example.org>", "250 ")
		c.cmd("RCPT TO:<bob@example.com>", "250 ")
		checkCodes(t, c.data(msg, 1), "250 2.0.0")
		msgs := e.inbox("bob@example.com")
		splitTrace(t, msgs[len(msgs)-1], []byte(want))
		good(name)
	}

	// No blank line between header and body: the whole message is header.
	noSep := "Subject: no separator\r\nFrom: a@example.org\r\nThis line is not a header field\r\n"
	stores("no separator", noSep, noSep)

	// Bare LF line endings (the end of data still needs CRLF.CRLF):
	// stored with CRLF, the only byte change storage makes.
	bareLF := "Subject: bare LF\nFrom: a@example.org\n\nline one\nline two\n"
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("DATA", "354 ")
	c.send(bareLF + "\r\n.\r\n")
	checkCodes(t, []string{c.reply()}, "250 2.0.0")
	msgs := e.inbox("bob@example.com")
	splitTrace(t, msgs[len(msgs)-1], []byte(crlf(bareLF)+"\r\n"))
	good("bare LF")

	// NUL bytes are kept as they came (Dovecot keeps them too); IMAP
	// decides how to serve them.
	nul := "Subject: NUL\r\n\r\nbefore\x00after\r\n\x00\x00\r\n"
	stores("NUL", nul, nul)

	// A 10,000-line header.
	var hdr strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&hdr, "X-Line-%d: %d\r\n", i, i)
	}
	long := hdr.String() + "Subject: long header\r\n\r\nbody\r\n"
	stores("10,000-line header", long, long)

	// A line of 100 KB (RFC 5321 allows 1000; real mail has longer).
	wide := "Subject: wide\r\n\r\n" + strings.Repeat("w", 100<<10) + "\r\nend\r\n"
	stores("100 KB line", wide, wide)

	// Over the size limit: 552 5.3.4, by DATA and by BDAT.
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("RCPT TO:<carol@example.com>", "250 ")
	over := "Subject: too big\r\n\r\n" + strings.Repeat(strings.Repeat("o", 78)+"\r\n", 2*limit/80)
	checkCodes(t, c.data(over, 2), "552 5.3.4", "552 5.3.4")
	good("too big (DATA)")
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(over), over))
	c.expect("552 5.3.4")
	good("too big (BDAT)")

	// Malformed addresses: 501, and the transaction goes on.
	c.cmd("MAIL FROM:<no-at-sign>", "501 ")
	c.cmd("MAIL FROM:<bad\x01ctl@example.org>", "501 5.1.7")
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<no-at-sign>", "501 ")
	c.cmd("RCPT TO:<two@at@example.com>", "501 5.1.3")
	c.cmd("RCPT TO:<bad\x7fctl@example.com>", "501 5.1.3")
	c.cmd("RCPT TO:<bob@example.com", "501 ")
	c.cmd("RCPT TO:<"+strings.Repeat("x", 700)+"@example.com>", "501 5.1.3")
	c.cmd("RSET", "250 ")
	good("malformed addresses")

	// Commands out of order.
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<nobody@example.com>", "550 ")
	c.cmd("MAIL FROM:<b@example.org>", "503 5.5.1")
	c.cmd("DATA", "502 ") // no accepted recipient
	c.cmd("RSET", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "502 ")
	c.cmd("DATA", "502 ")
	c.cmd("NOOP", "250 ")
	good("out of order")

	if n := len(e.inbox("carol@example.com")); n != delivered {
		t.Errorf("carol has %d messages, want %d", n, delivered)
	}
	e.checkClean()
}

// TestLineTooLong: a message line over maxLine fails the transaction for
// good and ends the connection (go-smtp reads commands and data through
// one line limit); nothing is stored.
func TestLineTooLong(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.maxSize = 4 * maxLine })
	c := e.dial()
	c.cmd("MAIL FROM:<a@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.com>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: wide\r\n\r\n" + strings.Repeat("w", maxLine+10) + "\r\n.\r\n")
	checkCodes(t, []string{c.reply()}, "554 5.6.0")
	c.expect("500 5.4.0")
	if n := len(e.inbox("bob@example.com")); n != 0 {
		t.Errorf("bob has %d messages", n)
	}
	e.checkClean()
}
