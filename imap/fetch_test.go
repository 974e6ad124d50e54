package imap

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"mime/quotedprintable"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	goimap "github.com/emersion/go-imap/v2"

	"letterbox/auth"
	"letterbox/storage"
)

const fetchSimple = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.com\r\n" +
	"Subject: Hello\r\n" +
	"Date: Fri, 02 Jan 2026 03:04:05 +0000\r\n" +
	"Message-ID: <m1@example.org>\r\n" +
	"X-Folded: first\r\n" +
	" second\r\n" +
	"\r\n" +
	"Hello Bob.\r\n"

const fetchSimpleHeader = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.com\r\n" +
	"Subject: Hello\r\n" +
	"Date: Fri, 02 Jan 2026 03:04:05 +0000\r\n" +
	"Message-ID: <m1@example.org>\r\n" +
	"X-Folded: first\r\n" +
	" second\r\n" +
	"\r\n"

const fetchMultipart = "From: Carol <carol@example.org>\r\n" +
	"To: bob@example.com\r\n" +
	"Subject: Parts\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--outer\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"first part\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=\"inner\"\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"plain\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"<p>caf=C3=A9 =\r\n" +
	"ok</p>  \r\n" +
	"--inner--\r\n" +
	"--outer\r\n" +
	"Content-Type: application/octet-stream; name=\"a.bin\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"Content-Disposition: attachment; filename=\"a.bin\"\r\n" +
	"\r\n" +
	"AAECAwBoZWxsbw==\r\n" +
	"--outer\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"From: Dave <dave@example.org>\r\n" +
	"Subject: Inner\r\n" +
	"\r\n" +
	"inner body\r\n" +
	"--outer--\r\n" +
	"epilogue\r\n"

// fetchBase64 is a single-part message with an encoded body.
const fetchBase64 = "From: x@example.org\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Transfer-Encoding: BASE64\r\n" +
	"Subject: b64\r\n" +
	"\r\n" +
	"aGVsbG8gd29y\r\n" +
	"bGQ=\r\n"

// lit is a literal as the raw client inlines it.
func lit(s string) string { return fmt.Sprintf("{%d}\r\n%s", len(s), s) }

func lit8(s string) string { return fmt.Sprintf("~{%d}\r\n%s", len(s), s) }

// appendAt stores a message with a fixed INTERNALDATE.
func (e *testEnv) appendAt(mailbox, msg string, date time.Time, flags ...string) storage.UID {
	e.t.Helper()
	mb, err := e.store.Mailbox(context.Background(), e.acct, mailbox)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.store.Append(context.Background(), e.acct, mb.ID, strings.NewReader(msg),
		storage.AppendOptions{Flags: flags, InternalDate: date})
	if err != nil {
		e.t.Fatal(err)
	}
	return r.UID
}

// fetch runs a FETCH that must succeed and returns its untagged lines.
func (c *rawClient) fetch(command string) []string {
	c.t.Helper()
	return c.ok(command)
}

// fetch1 runs a FETCH that must answer exactly want (one line).
func (c *rawClient) fetch1(command, want string) {
	c.t.Helper()
	u := c.ok(command)
	if len(u) != 1 || u[0] != want {
		c.t.Errorf("%s:\n got %q\nwant %q", command, u, want)
	}
}

// selectRev2 logs in, enables IMAP4rev2 (no \Recent) and selects INBOX.
func (e *testEnv) selectRev2() *rawClient {
	c := e.login()
	c.ok("ENABLE IMAP4rev2")
	c.ok("SELECT INBOX")
	return c
}

var fetchDate = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -(4*3600+30*60)))

func TestFetchSimpleItems(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate, `\Flagged`, "$Work")
	c := e.selectRev2()
	env := `("Fri, 02 Jan 2026 03:04:05 +0000" "Hello" (("Alice" NIL "alice" "example.org")) ` +
		`(("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) ` +
		`((NIL NIL "bob" "example.com")) NIL NIL NIL "<m1@example.org>")`
	c.fetch1("FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY)",
		`* 1 FETCH (UID 1 FLAGS (\Flagged $Work) INTERNALDATE "02-Jan-2026 03:04:05 -0430" RFC822.SIZE 179 ENVELOPE `+env+
			` BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)`+
			` BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1))`)
	c.fetch1("FETCH 1 FAST", `* 1 FETCH (FLAGS (\Flagged $Work) INTERNALDATE "02-Jan-2026 03:04:05 -0430" RFC822.SIZE 179)`)
	c.fetch1("FETCH 1 ALL", `* 1 FETCH (FLAGS (\Flagged $Work) INTERNALDATE "02-Jan-2026 03:04:05 -0430" RFC822.SIZE 179 ENVELOPE `+env+`)`)
	c.fetch1("FETCH 1 full", `* 1 FETCH (FLAGS (\Flagged $Work) INTERNALDATE "02-Jan-2026 03:04:05 -0430" RFC822.SIZE 179 ENVELOPE `+env+
		` BODY ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1))`)
	// Items asked twice are answered once; order as asked.
	c.fetch1("FETCH 1 (rfc822.size uid RFC822.SIZE)", `* 1 FETCH (RFC822.SIZE 179 UID 1)`)
	// MODSEQ is only there when asked; SAVEDATE is a date-time.
	msgs, err := e.store.Messages(context.Background(), e.acct, mustMailbox(t, e, "INBOX"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	u := c.fetch("FETCH 1 (MODSEQ SAVEDATE)")
	want := fmt.Sprintf(`* 1 FETCH (MODSEQ (%d) SAVEDATE `, msgs[0].ModSeq)
	if len(u) != 1 || !strings.HasPrefix(u[0], want) || !strings.HasSuffix(u[0], `")`) || len(u[0]) != len(want)+len(`"02-Jan-2026 03:04:05 +0000")`) {
		t.Errorf("MODSEQ SAVEDATE: %q, want prefix %q", u, want)
	}
	c.fetch1("FETCH 1 (RFC822.HEADER)", `* 1 FETCH (RFC822.HEADER `+lit(fetchSimpleHeader)+`)`)
}

func mustMailbox(t *testing.T, e *testEnv, name string) int64 {
	mb, err := e.store.Mailbox(context.Background(), e.acct, name)
	if err != nil {
		t.Fatal(err)
	}
	return mb.ID
}

// IMAP4rev1 sessions see \Recent first in FLAGS.
func TestFetchRecentRev1(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate, `\Seen`)
	c := e.login()
	c.ok("SELECT INBOX")
	c.fetch1("FETCH 1 FLAGS", `* 1 FETCH (FLAGS (\Recent \Seen))`)
}

func TestFetchSections(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate)
	e.appendAt("INBOX", fetchMultipart, fetchDate)
	c := e.selectRev2()
	part2 := "--inner\r\nContent-Type: text/plain\r\n\r\nplain\r\n--inner\r\n" +
		"Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"<p>caf=C3=A9 =\r\nok</p>  \r\n--inner--"
	inner := "From: Dave <dave@example.org>\r\nSubject: Inner\r\n\r\n"
	for _, tc := range []struct{ cmd, want string }{
		{"FETCH 1 BODY.PEEK[]", "BODY[] " + lit(fetchSimple)},
		{"FETCH 1 BODY.PEEK[HEADER]", "BODY[HEADER] " + lit(fetchSimpleHeader)},
		{"FETCH 1 BODY.PEEK[TEXT]", "BODY[TEXT] " + lit("Hello Bob.\r\n")},
		{"FETCH 1 BODY.PEEK[1]", "BODY[1] " + lit("Hello Bob.\r\n")},
		{"FETCH 1 BODY.PEEK[1.MIME]", "BODY[1.MIME] " + lit(fetchSimpleHeader)},
		{"FETCH 1 BODY.PEEK[2]", "BODY[2] " + lit("")},
		{"FETCH 1 BODY.PEEK[1.HEADER]", "BODY[1.HEADER] " + lit("")},
		{"FETCH 1 BODY.PEEK[1.1]", "BODY[1.1] " + lit("")},
		{"FETCH 1 RFC822.TEXT", "FLAGS (\\Seen) RFC822.TEXT " + lit("Hello Bob.\r\n")},
		{"FETCH 1 RFC822", "RFC822 " + lit(fetchSimple)},
		{"FETCH 2 BODY.PEEK[1]", "BODY[1] " + lit("first part")},
		{"FETCH 2 BODY.PEEK[1.MIME]", "BODY[1.MIME] " + lit("Content-Type: text/plain; charset=utf-8\r\n\r\n")},
		{"FETCH 2 BODY.PEEK[2]", "BODY[2] " + lit(part2)},
		{"FETCH 2 BODY.PEEK[2.1]", "BODY[2.1] " + lit("plain")},
		{"FETCH 2 BODY.PEEK[2.2]", "BODY[2.2] " + lit("<p>caf=C3=A9 =\r\nok</p>  ")},
		{"FETCH 2 BODY.PEEK[2.2.MIME]", "BODY[2.2.MIME] " + lit("Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")},
		{"FETCH 2 BODY.PEEK[2.3]", "BODY[2.3] " + lit("")},
		// A last ".1" on a leaf part is the part itself, as in Dovecot.
		{"FETCH 2 BODY.PEEK[3.1]", "BODY[3.1] " + lit("AAECAwBoZWxsbw==")},
		{"FETCH 2 BODY.PEEK[3.1.1]", "BODY[3.1.1] " + lit("")},
		{"FETCH 2 BODY.PEEK[3.2]", "BODY[3.2] " + lit("")},
		{"FETCH 2 BODY.PEEK[3]", "BODY[3] " + lit("AAECAwBoZWxsbw==")},
		{"FETCH 2 BODY.PEEK[4]", "BODY[4] " + lit(inner+"inner body")},
		{"FETCH 2 BODY.PEEK[4.MIME]", "BODY[4.MIME] " + lit("Content-Type: message/rfc822\r\n\r\n")},
		{"FETCH 2 BODY.PEEK[4.HEADER]", "BODY[4.HEADER] " + lit(inner)},
		{"FETCH 2 BODY.PEEK[4.TEXT]", "BODY[4.TEXT] " + lit("inner body")},
		{"FETCH 2 BODY.PEEK[4.1]", "BODY[4.1] " + lit("inner body")},
		{"FETCH 2 BODY.PEEK[4.1.MIME]", "BODY[4.1.MIME] " + lit(inner)},
		{"FETCH 2 BODY.PEEK[1.TEXT]", "BODY[1.TEXT] " + lit("")},
		{"FETCH 2 BODY.PEEK[9.1]", "BODY[9.1] " + lit("")},
		{"FETCH 2 BODY.PEEK[TEXT]<0.8>", "BODY[TEXT]<0> " + lit("preamble")},
		// Partial ranges: clipped at the end, empty past it.
		{"FETCH 2 BODY.PEEK[4.TEXT]<6.100>", "BODY[4.TEXT]<6> " + lit("body")},
		{"FETCH 2 BODY.PEEK[4.TEXT]<10.5>", "BODY[4.TEXT]<10> " + lit("")},
		{"FETCH 2 BODY.PEEK[]<5000.10>", "BODY[]<5000> " + lit("")},
		{"FETCH 1 BODY.PEEK[HEADER]<6.5>", "BODY[HEADER]<6> " + lit("Alice")},
		// A zero length is taken, as Dovecot takes it.
		{"FETCH 1 BODY.PEEK[]<5.0>", "BODY[]<5> " + lit("")},
		// Section keywords are not case-sensitive; the echo is upper case.
		{"FETCH 2 body.peek[4.header]", "BODY[4.HEADER] " + lit(inner)},
	} {
		seq := tc.cmd[len("FETCH ") : len("FETCH ")+1]
		c.fetch1(tc.cmd, "* "+seq+" FETCH ("+tc.want+")")
	}
	// Several literals in one response, after the items the narrow row
	// holds, as Dovecot orders them (checked against Dovecot 2.3.19).
	c.fetch1("FETCH 2 (BODY.PEEK[2.1] UID BODY.PEEK[1] RFC822.SIZE)",
		fmt.Sprintf("* 2 FETCH (UID 2 RFC822.SIZE %d BODY[2.1] %s BODY[1] %s)", len(fetchMultipart), lit("plain"), lit("first part")))
	c.fetch1("FETCH 1 (BODY.PEEK[TEXT] ENVELOPE BODYSTRUCTURE INTERNALDATE BINARY.SIZE[1] RFC822.HEADER UID)",
		`* 1 FETCH (INTERNALDATE "02-Jan-2026 03:04:05 -0430" UID 1 BODY[TEXT] `+lit("Hello Bob.\r\n")+
			` ENVELOPE ("Fri, 02 Jan 2026 03:04:05 +0000" "Hello" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) ((NIL NIL "bob" "example.com")) NIL NIL NIL "<m1@example.org>")`+
			` BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1 NIL NIL NIL NIL) BINARY.SIZE[1] 12 RFC822.HEADER `+lit(fetchSimpleHeader)+`)`)
	// Simple items asked twice are answered once, sections as often as asked.
	c.fetch1("FETCH 2 (UID UID BODY.PEEK[1]<0.2> BODY.PEEK[1]<0.3>)", "* 2 FETCH (UID 2 BODY[1]<0> "+lit("fi")+" BODY[1]<0> "+lit("fir")+")")
}

func TestFetchHeaderFields(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate)
	e.appendAt("INBOX", fetchMultipart, fetchDate)
	e.appendAt("INBOX", "Received: a\r\nSubject: one\r\nreceived: b\r\n  folded\r\nX-Other : c\r\n\r\nbody\r\n", fetchDate)
	c := e.selectRev2()
	for _, tc := range []struct{ cmd, want string }{
		// Message order, not request order; folded lines kept; any case.
		{"FETCH 1 BODY.PEEK[HEADER.FIELDS (x-folded SUBJECT)]", "BODY[HEADER.FIELDS (X-FOLDED SUBJECT)] " +
			lit("Subject: Hello\r\nX-Folded: first\r\n second\r\n\r\n")},
		{"FETCH 1 BODY.PEEK[HEADER.FIELDS (Nothing)]", "BODY[HEADER.FIELDS (NOTHING)] " + lit("\r\n")},
		{"FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (From To Date Message-ID X-Folded)]",
			"BODY[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID X-FOLDED)] " + lit("Subject: Hello\r\n\r\n")},
		{`FETCH 1 BODY.PEEK[HEADER.FIELDS ("Subject")]`, "BODY[HEADER.FIELDS (SUBJECT)] " + lit("Subject: Hello\r\n\r\n")},
		{"FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]<2.5>", "BODY[HEADER.FIELDS (SUBJECT)]<2> " + lit("bject")},
		// Every instance of a repeated field; white space before the colon.
		{"FETCH 3 BODY.PEEK[HEADER.FIELDS (RECEIVED X-Other)]", "BODY[HEADER.FIELDS (RECEIVED X-OTHER)] " +
			lit("Received: a\r\nreceived: b\r\n  folded\r\nX-Other : c\r\n\r\n")},
		// Fields of an encapsulated message come from the blob.
		{"FETCH 2 BODY.PEEK[4.HEADER.FIELDS (subject)]", "BODY[4.HEADER.FIELDS (SUBJECT)] " + lit("Subject: Inner\r\n\r\n")},
		{"FETCH 2 BODY.PEEK[4.HEADER.FIELDS.NOT (subject)]", "BODY[4.HEADER.FIELDS.NOT (SUBJECT)] " + lit("From: Dave <dave@example.org>\r\n\r\n")},
		{"FETCH 2 BODY.PEEK[1.HEADER.FIELDS (subject)]", "BODY[1.HEADER.FIELDS (SUBJECT)] " + lit("")},
	} {
		seq := tc.cmd[len("FETCH ") : len("FETCH ")+1]
		c.fetch1(tc.cmd, "* "+seq+" FETCH ("+tc.want+")")
	}
}

func TestFetchBinary(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchMultipart, fetchDate)
	e.appendAt("INBOX", fetchBase64, fetchDate)
	e.appendAt("INBOX", "Subject: uu\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n", fetchDate)
	e.appendAt("INBOX", "Subject: nul\r\n\r\na\x00b\r\n", fetchDate)
	c := e.selectRev2()
	b64Header := "From: x@example.org\r\nContent-Type: text/plain\r\nSubject: b64\r\nContent-Transfer-Encoding: binary\r\n\r\n"
	for _, tc := range []struct{ cmd, want string }{
		{"FETCH 1 BINARY.PEEK[3]", "BINARY[3] " + lit8("\x00\x01\x02\x03\x00hello")},
		{"FETCH 1 BINARY.SIZE[3]", "BINARY.SIZE[3] 10"},
		{"FETCH 1 BINARY.PEEK[3]<5.3>", "BINARY[3]<5> " + lit("hel")},
		{"FETCH 1 BINARY.PEEK[3]<2.3>", "BINARY[3]<2> " + lit8("\x02\x03\x00")},
		{"FETCH 1 BINARY.PEEK[2.2]", "BINARY[2.2] " + lit("<p>caf\xc3\xa9 ok</p>")},
		{"FETCH 1 BINARY.SIZE[2.2]", "BINARY.SIZE[2.2] 15"},
		{"FETCH 1 BINARY.PEEK[2.1]", "BINARY[2.1] " + lit("plain")},
		{"FETCH 1 BINARY.SIZE[2.1]", "BINARY.SIZE[2.1] 5"},
		// A multipart is sent as it is, as for BODY.
		{"FETCH 1 BINARY.SIZE[]", fmt.Sprintf("BINARY.SIZE[] %d", len(fetchMultipart))},
		{"FETCH 1 BINARY.PEEK[]", "BINARY[] " + lit(fetchMultipart)},
		{"FETCH 1 BINARY.PEEK[9]", "BINARY[9] " + lit("")},
		{"FETCH 1 BINARY.SIZE[9]", "BINARY.SIZE[9] 0"},
		{"FETCH 1 (BINARY.SIZE[3] BINARY.PEEK[3] BINARY.SIZE[1])", "BINARY.SIZE[3] 10 BINARY[3] " + lit8("\x00\x01\x02\x03\x00hello") + " BINARY.SIZE[1] 10"},
		{"FETCH 1 BINARY.PEEK[3]<2.0>", "BINARY[3]<2> " + lit("")},
		// A single-part message: its header, with the encoding now binary, then the decoded body.
		{"FETCH 2 BINARY.PEEK[]", "BINARY[] " + lit(b64Header+"hello world")},
		{"FETCH 2 BINARY.SIZE[]", fmt.Sprintf("BINARY.SIZE[] %d", len(b64Header)+11)},
		{"FETCH 2 BINARY.PEEK[]<70.100>", "BINARY[]<70> " + lit((b64Header + "hello world")[70:])},
		{"FETCH 2 BINARY.PEEK[1]", "BINARY[1] " + lit("hello world")},
		{"FETCH 2 BINARY.PEEK[1]<6.100>", "BINARY[1]<6> " + lit("world")},
		{"FETCH 4 BINARY.PEEK[1]", "BINARY[1] " + lit8("a\x00b\r\n")},
		// BODY never sends a NUL: it becomes 0x80, as Dovecot does.
		{"FETCH 4 BODY.PEEK[1]", "BODY[1] " + lit("a\x80b\r\n")},
		{"FETCH 4 BODY.PEEK[TEXT]<1.1>", "BODY[TEXT]<1> " + lit("\x80")},
	} {
		seq := tc.cmd[len("FETCH ") : len("FETCH ")+1]
		c.fetch1(tc.cmd, "* "+seq+" FETCH ("+tc.want+")")
	}
	// An encoding we cannot decode: NO [UNKNOWN-CTE], nothing sent, and
	// BODY still works.
	u, st := c.cmd("FETCH 3 BINARY.PEEK[1]")
	if len(u) != 0 || !strings.HasPrefix(st, "NO [UNKNOWN-CTE]") {
		t.Errorf("unknown CTE: %q %q", u, st)
	}
	u, st = c.cmd("FETCH 1:3 BINARY.SIZE[1]")
	if len(u) != 0 || !strings.HasPrefix(st, "NO [UNKNOWN-CTE]") {
		t.Errorf("unknown CTE in a range: %q %q", u, st)
	}
	c.fetch1("FETCH 3 BODY.PEEK[1]", "* 3 FETCH (BODY[1] "+lit("begin 644 x\r\n")+")")
	// BINARY sets \Seen, BINARY.PEEK and BINARY.SIZE do not.
	c.fetch1("FETCH 2 BINARY[1]<0.5>", "* 2 FETCH (FLAGS (\\Seen) BINARY[1]<0> "+lit("hello")+")")
	c.fetch1("FETCH 1 FLAGS", "* 1 FETCH (FLAGS ())")
}

func TestFetchSeen(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate)
	e.appendAt("INBOX", fetchSimple, fetchDate, "$Label")
	e.appendAt("INBOX", fetchSimple, fetchDate)
	c := e.selectRev2()
	// PEEK and RFC822.HEADER leave \Seen alone.
	c.fetch1("FETCH 1 (BODY.PEEK[TEXT] RFC822.HEADER)", "* 1 FETCH (BODY[TEXT] "+lit("Hello Bob.\r\n")+" RFC822.HEADER "+lit(fetchSimpleHeader)+")")
	c.fetch1("FETCH 1 FLAGS", "* 1 FETCH (FLAGS ())")
	// BODY[] sets it, and the response carries the new FLAGS before the literal.
	c.fetch1("FETCH 1 BODY[TEXT]", "* 1 FETCH (FLAGS (\\Seen) BODY[TEXT] "+lit("Hello Bob.\r\n")+")")
	// The change is not announced again by the next update.
	if u := c.ok("NOOP"); len(u) != 0 {
		t.Errorf("NOOP repeated the flag change: %q", u)
	}
	// Already seen: no FLAGS.
	c.fetch1("FETCH 1 BODY[TEXT]", "* 1 FETCH (BODY[TEXT] "+lit("Hello Bob.\r\n")+")")
	// FLAGS asked: once, in its place, with the new value.
	c.fetch1("FETCH 2 (FLAGS RFC822.TEXT)", "* 2 FETCH (FLAGS (\\Seen $Label) RFC822.TEXT "+lit("Hello Bob.\r\n")+")")
	// UID FETCH: UID first.
	c.fetch1("UID FETCH 3 (BODY[HEADER.FIELDS (Subject)])", "* 3 FETCH (UID 3 FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] "+lit("Subject: Hello\r\n\r\n")+")")
	// Another session sees the changes.
	d := e.selectRev2()
	if u := d.fetch("FETCH 1:3 FLAGS"); strings.Join(u, "|") != `* 1 FETCH (FLAGS (\Seen))|* 2 FETCH (FLAGS (\Seen $Label))|* 3 FETCH (FLAGS (\Seen))` {
		t.Errorf("other session: %q", u)
	}

	// EXAMINE is read-only: no \Seen.
	e.appendAt("INBOX", fetchSimple, fetchDate)
	r := e.login()
	r.ok("ENABLE IMAP4rev2")
	r.ok("EXAMINE INBOX")
	r.fetch1("FETCH 4 BODY[TEXT]", "* 4 FETCH (BODY[TEXT] "+lit("Hello Bob.\r\n")+")")
	r.fetch1("FETCH 4 FLAGS", "* 4 FETCH (FLAGS ())")
}

func TestUIDFetch(t *testing.T) {
	e := newTestEnv(t)
	for i := 0; i < 3; i++ {
		e.appendAt("INBOX", fetchSimple, fetchDate)
	}
	c := e.selectRev2()
	u := c.fetch("UID FETCH 1:* FLAGS")
	if strings.Join(u, "|") != "* 1 FETCH (UID 1 FLAGS ())|* 2 FETCH (UID 2 FLAGS ())|* 3 FETCH (UID 3 FLAGS ())" {
		t.Errorf("UID FETCH 1:*: %q", u)
	}
	c.fetch1("UID FETCH 2 (FLAGS UID)", "* 2 FETCH (UID 2 FLAGS ())")
	c.fetch1("UID FETCH 3 RFC822.SIZE", "* 3 FETCH (UID 3 RFC822.SIZE 179)")
	if u := c.fetch("UID FETCH 10:20 FLAGS"); len(u) != 0 {
		t.Errorf("UID FETCH past the end: %q", u)
	}
	// FETCH by sequence number in reverse and with * work too.
	u = c.fetch("FETCH *:2 UID")
	if strings.Join(u, "|") != "* 2 FETCH (UID 2)|* 3 FETCH (UID 3)" {
		t.Errorf("FETCH *:2: %q", u)
	}
}

func TestFetchBadSyntax(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate)
	c := e.selectRev2()
	for _, cmd := range []string{
		"FETCH", "FETCH 1", "FETCH 1 ()", "FETCH 1 (FLAGS", "FETCH 1 NOPE", "FETCH 1 (ALL)", "FETCH 1 (FLAGS FAST)",
		"FETCH 1 BODY.PEEK", "FETCH 1 BODY[", "FETCH 1 BODY[0]", "FETCH 1 BODY[1.]", "FETCH 1 BODY[MIME]",
		"FETCH 1 BODY[HEADER.FIELDS]", "FETCH 1 BODY[HEADER.FIELDS ()]", "FETCH 1 BODY[HEADER.FIELDS (a]",
		"FETCH 1 BODY[FOO]", "FETCH 1 BODY[]<1>", "FETCH 1 BODY[]<a.1>", "FETCH 1 BINARY[HEADER]",
		"FETCH 1 BINARY[1.TEXT]", "FETCH 1 BINARY.SIZE[1]<0.1>", "FETCH 1 BINARY", "FETCH 1 FLAGS extra",
		"FETCH 1 FLAGS (NOPE)", "FETCH 1 FLAGS (CHANGEDSINCE x)", "FETCH 1 FLAGS (VANISHED)", "FETCH 0 FLAGS",
		"FETCH 2 FLAGS", "FETCH 1:5 FLAGS", "FETCH a FLAGS", "FETCH 1 BODY[4294967296]",
	} {
		u, st := c.cmd(cmd)
		if !strings.HasPrefix(st, "BAD") || len(u) != 0 {
			t.Errorf("%q: %q %q", cmd, u, st)
		}
		// The session goes on (and 20 BADs in a row would end it).
		c.fetch1("FETCH 1 UID", "* 1 FETCH (UID 1)")
	}
}

// RFC 9051 section 7.5.1: a message expunged by another session keeps its
// sequence number during FETCH; it is left out, with OK [EXPUNGEISSUED], as
// Dovecot answers.
func TestFetchExpungeIssued(t *testing.T) {
	e := newTestEnv(t)
	for i := 0; i < 3; i++ {
		e.appendAt("INBOX", fetchSimple, fetchDate)
	}
	a := e.selectRev2()
	b := e.selectRev2()
	b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
	b.ok("EXPUNGE")
	u, st := a.cmd("FETCH 1:3 (UID BODY.PEEK[TEXT])")
	if st != "OK [EXPUNGEISSUED] Some messages were already expunged" {
		t.Errorf("status %q", st)
	}
	want := []string{"* 1 FETCH (UID 1 BODY[TEXT] " + lit("Hello Bob.\r\n") + ")", "* 3 FETCH (UID 3 BODY[TEXT] " + lit("Hello Bob.\r\n") + ")"}
	if strings.Join(u, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", u, want)
	}
	// The expunge is announced once allowed.
	if u := a.ok("NOOP"); strings.Join(u, "|") != "* 2 EXPUNGE" {
		t.Errorf("NOOP: %q", u)
	}
	a.fetch1("FETCH 2 UID", "* 2 FETCH (UID 3)")
}

func TestFetchChangedSince(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate)
	e.appendAt("INBOX", fetchMultipart, fetchDate)
	e.appendAt("INBOX", fetchBase64, fetchDate)
	c := e.selectRev2()
	msgs, err := e.store.Messages(context.Background(), e.acct, mustMailbox(t, e, "INBOX"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.ok("STORE 2 +FLAGS.SILENT (\\Answered)")
	u := c.fetch(fmt.Sprintf("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)", msgs[2].ModSeq))
	if len(u) != 1 || !strings.HasPrefix(u[0], "* 2 FETCH (FLAGS (\\Answered) MODSEQ (") {
		t.Errorf("CHANGEDSINCE: %q", u)
	}
	// With the structure cache in play: only message 2, with its own envelope.
	c.fetch("FETCH 1:3 ENVELOPE") // fills the cache
	u = c.fetch(fmt.Sprintf("UID FETCH 1:* (ENVELOPE) (CHANGEDSINCE %d)", msgs[2].ModSeq))
	if len(u) != 1 || !strings.HasPrefix(u[0], "* 2 FETCH (UID 2 MODSEQ (") || !strings.Contains(u[0], `ENVELOPE (NIL "Parts"`) {
		t.Errorf("CHANGEDSINCE with ENVELOPE: %q", u)
	}
}

// Sections bigger than what is read into memory are streamed: ranged reads,
// two passes where the size must be known first.
func TestFetchLargeSections(t *testing.T) {
	e := newTestEnv(t)
	rnd := rand.New(rand.NewSource(1))
	data := make([]byte, 700<<10)
	rnd.Read(data)
	enc := base64.StdEncoding.EncodeToString(data)
	var b64 strings.Builder
	for len(enc) > 76 {
		b64.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b64.WriteString(enc + "\r\n")
	var qp bytes.Buffer
	qw := quotedprintable.NewWriter(&qp)
	text := strings.Repeat("Grüße aus Köln, très bien = ok.\r\n", 20000)
	qw.Write([]byte(text))
	qw.Close()
	bigHeader := strings.Repeat("X-Pad: "+strings.Repeat("p", 90)+"\r\n", 4000)
	msg := "From: big@example.org\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64.String() +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp.String() + "\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" + bigHeader + "Subject: deep\r\n" + bigHeader + "\r\ninner\r\n" +
		"--b--\r\n"
	e.appendAt("INBOX", msg, fetchDate)
	c := e.selectRev2()
	check := func(cmd, want string) {
		t.Helper()
		u := c.fetch(cmd)
		if len(u) != 1 || u[0] != want {
			got := fmt.Sprint(u)
			t.Errorf("%s: got %d bytes %.200q..., want %d bytes %.200q", cmd, len(got), got, len(want), want)
		}
	}
	check("FETCH 1 BINARY.SIZE[1]", fmt.Sprintf("* 1 FETCH (BINARY.SIZE[1] %d)", len(data)))
	check("FETCH 1 BINARY.PEEK[1]", "* 1 FETCH (BINARY[1] "+lit8(string(data))+")")
	check("FETCH 1 BINARY.PEEK[1]<300000.200000>", "* 1 FETCH (BINARY[1]<300000> "+lit8(string(data[300000:500000]))+")")
	check("FETCH 1 BINARY.PEEK[1]<700000.200000>", "* 1 FETCH (BINARY[1]<700000> "+lit8(string(data[700000:]))+")")
	check("FETCH 1 BINARY.PEEK[1]<900000.10>", "* 1 FETCH (BINARY[1]<900000> "+lit("")+")")
	qpBody := text // the part ends with the CRLF of the blank line before the boundary
	check("FETCH 1 BINARY.SIZE[2]", fmt.Sprintf("* 1 FETCH (BINARY.SIZE[2] %d)", len(qpBody)))
	check("FETCH 1 BINARY.PEEK[2]", "* 1 FETCH (BINARY[2] "+lit(qpBody)+")")
	check("FETCH 1 BINARY.PEEK[2]<1000.50>", "* 1 FETCH (BINARY[2]<1000> "+lit(qpBody[1000:1050])+")")
	check("FETCH 1 BODY.PEEK[1]<100.50>", "* 1 FETCH (BODY[1]<100> "+lit(b64.String()[100:150])+")")
	check("FETCH 1 BODY.PEEK[3.HEADER.FIELDS (Subject)]", "* 1 FETCH (BODY[3.HEADER.FIELDS (SUBJECT)] "+lit("Subject: deep\r\n\r\n")+")")
	check("FETCH 1 BODY.PEEK[3.HEADER.FIELDS.NOT (X-Pad)]<3.5>", "* 1 FETCH (BODY[3.HEADER.FIELDS.NOT (X-PAD)]<3> "+lit("ject:")+")")
	check("FETCH 1 BODY.PEEK[3.TEXT]", "* 1 FETCH (BODY[3.TEXT] "+lit("inner")+")")
}

// go-imap v2's client parses what FETCH sends.
func TestFetchClient(t *testing.T) {
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate)
	e.appendAt("INBOX", fetchMultipart, fetchDate)
	c := e.dialClient(nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	whole := &goimap.FetchItemBodySection{Peek: true}
	fields := &goimap.FetchItemBodySection{Specifier: goimap.PartSpecifierHeader, HeaderFields: []string{"Subject", "From"}, Peek: true}
	part := &goimap.FetchItemBodySection{Part: []int{4}, Specifier: goimap.PartSpecifierText, Partial: &goimap.SectionPartial{Offset: 6, Size: 4}}
	bin := &goimap.FetchItemBinarySection{Part: []int{3}, Peek: true}
	msgs, err := c.Fetch(goimap.SeqSetNum(1, 2), &goimap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
		BodyStructure: &goimap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*goimap.FetchItemBodySection{whole, fields},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	m1, m2 := msgs[0], msgs[1]
	if m1.UID != 1 || m1.RFC822Size != int64(len(fetchSimple)) || !m1.InternalDate.Equal(fetchDate) {
		t.Errorf("m1 %+v", m1)
	}
	if env := m1.Envelope; env == nil || env.Subject != "Hello" || len(env.From) != 1 || env.From[0].Addr() != "alice@example.org" ||
		env.From[0].Name != "Alice" || env.MessageID != "m1@example.org" || len(env.To) != 1 || env.To[0].Addr() != "bob@example.com" {
		t.Errorf("envelope %+v", m1.Envelope)
	}
	if got := string(m1.FindBodySection(whole)); got != fetchSimple {
		t.Errorf("BODY[] %q", got)
	}
	if got := string(m1.FindBodySection(fields)); got != "From: Alice <alice@example.org>\r\nSubject: Hello\r\n\r\n" {
		t.Errorf("HEADER.FIELDS %q", got)
	}
	sp, ok := m1.BodyStructure.(*goimap.BodyStructureSinglePart)
	if !ok || sp.MediaType() != "text/plain" || sp.Size != 12 || sp.Text == nil || sp.Text.NumLines != 1 {
		t.Errorf("bodystructure 1 %#v", m1.BodyStructure)
	}
	mp, ok := m2.BodyStructure.(*goimap.BodyStructureMultiPart)
	if !ok || mp.Subtype != "mixed" || len(mp.Children) != 4 {
		t.Fatalf("bodystructure 2 %#v", m2.BodyStructure)
	}
	if alt, ok := mp.Children[1].(*goimap.BodyStructureMultiPart); !ok || alt.Subtype != "alternative" || len(alt.Children) != 2 {
		t.Errorf("part 2 %#v", mp.Children[1])
	}
	if att, ok := mp.Children[2].(*goimap.BodyStructureSinglePart); !ok || att.Filename() != "a.bin" || att.Encoding != "base64" {
		t.Errorf("part 3 %#v", mp.Children[2])
	}
	if rfc, ok := mp.Children[3].(*goimap.BodyStructureSinglePart); !ok || rfc.MessageRFC822 == nil ||
		rfc.MessageRFC822.Envelope.Subject != "Inner" || rfc.MessageRFC822.BodyStructure.MediaType() != "text/plain" {
		t.Errorf("part 4 %#v", mp.Children[3])
	}
	if got := string(m2.FindBodySection(whole)); got != fetchMultipart {
		t.Errorf("BODY[] of 2: %q", got)
	}
	// Partial, BINARY, BINARY.SIZE, and \Seen set by a non-PEEK section.
	msgs, err = c.Fetch(goimap.UIDSetNum(2), &goimap.FetchOptions{
		Flags:             true,
		BodySection:       []*goimap.FetchItemBodySection{part},
		BinarySection:     []*goimap.FetchItemBinarySection{bin},
		BinarySectionSize: []*goimap.FetchItemBinarySectionSize{{Part: []int{3}}},
	}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch 2: %v %v", msgs, err)
	}
	if got := string(msgs[0].FindBodySection(part)); got != "body" {
		t.Errorf("BODY[4.TEXT]<6.4> %q", got)
	}
	if got := msgs[0].FindBinarySection(bin); string(got) != "\x00\x01\x02\x03\x00hello" {
		t.Errorf("BINARY[3] %q", got)
	}
	if n, ok := msgs[0].FindBinarySectionSize([]int{3}); !ok || n != 10 {
		t.Errorf("BINARY.SIZE[3] %d %v", n, ok)
	}
	// An IMAP4rev1 session: \Recent too.
	if fl := fmt.Sprint(msgs[0].Flags); fl != `[\Recent \Seen]` {
		t.Errorf("flags %v", fl)
	}
}

func TestBase64Reader(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	for _, n := range []int{0, 1, 2, 3, 4, 5, 57, 100, 5000, 70000} {
		data := make([]byte, n)
		rnd.Read(data)
		enc := base64.StdEncoding.EncodeToString(data)
		var folded strings.Builder
		for i := 0; i < len(enc); i += 76 {
			folded.WriteString(enc[i:min(i+76, len(enc))])
			folded.WriteString(" \t\r\n")
		}
		for name, r := range map[string]io.Reader{
			"plain":    strings.NewReader(enc),
			"folded":   strings.NewReader(folded.String()),
			"bytewise": iotest.OneByteReader(strings.NewReader(folded.String())),
		} {
			got, err := io.ReadAll(iotest.OneByteReader(decoder(cteBase64, r)))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%d %s: %v, got %d bytes", n, name, err, len(got))
			}
		}
	}
	// Lenient: junk ignored, missing pad, concatenated encodings.
	for in, want := range map[string]string{
		"aGVsbG8":          "hello",
		"aGVs!bG8=":        "hello",
		"aGk=aGk=":         "hihi",
		"aGVsbG8gd29ybGQ=": "hello world",
		"a":                "",
		"=":                "",
	} {
		got, _ := io.ReadAll(decoder(cteBase64, strings.NewReader(in)))
		if string(got) != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestQPReader(t *testing.T) {
	for in, want := range map[string]string{
		"caf=C3=A9":             "caf\xc3\xa9",
		"caf=c3=a9":             "caf\xc3\xa9",
		"a=\r\nb":               "ab",
		"a= \t\r\nb":            "ab",
		"a=\nb":                 "ab",
		"trailing  \r\nx":       "trailing\r\nx",
		"mid \t space \r\n":     "mid \t space\r\n",
		"bad=ZZ=4":              "bad=ZZ=4",
		"8bit \xe9 kept":        "8bit \xe9 kept",
		"end=":                  "end",
		"ws at end  ":           "ws at end",
		"a=3D=\r\n=3Db\r\n\r\n": "a==b\r\n\r\n",
	} {
		for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			got, err := io.ReadAll(decoder(cteQP, r))
			if err != nil || string(got) != want {
				t.Errorf("%q: got %q (%v), want %q", in, got, err, want)
			}
		}
	}
}

// BenchmarkFetch10k measures FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE
// ENVELOPE BODYSTRUCTURE) over loopback on a 10,000 message mailbox, the
// issue's benchmark, in ns per message fetched.
func BenchmarkFetch10k(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	store, err := storage.Open(ctx, storage.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if err := store.AddDomain(ctx, "example.com"); err != nil {
		b.Fatal(err)
	}
	acct, err := store.CreateAccount(ctx, "bob@example.com", "{PLAIN}secret", 0)
	if err != nil {
		b.Fatal(err)
	}
	mb, err := store.Mailbox(ctx, acct, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; {
		var ins []*storage.Incoming
		var opts []storage.AppendOptions
		for j := 0; j < 500 && i < n; j, i = j+1, i+1 {
			in, err := store.Receive(strings.NewReader(benchMessage(i)))
			if err != nil {
				b.Fatal(err)
			}
			ins = append(ins, in)
			opts = append(opts, storage.AppendOptions{InternalDate: fetchDate.Add(time.Duration(i) * time.Minute)})
		}
		if _, err := store.AppendAll(ctx, acct, mb.ID, ins, opts); err != nil {
			b.Fatal(err)
		}
		for _, in := range ins {
			in.Close()
		}
	}
	srv := &Server{
		Store:            store,
		Auth:             &auth.Authenticator{Store: store},
		Throttle:         auth.NewThrottle(),
		CleartextAllowed: func(net.Addr) bool { return true },
		Log:              slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln, false)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	r := bufio.NewReaderSize(nc, 64<<10)
	run := func(cmd string) (lines int) {
		if _, err := io.WriteString(nc, "t "+cmd+"\r\n"); err != nil {
			b.Fatal(err)
		}
		for {
			l, err := r.ReadSlice('\n')
			for err == bufio.ErrBufferFull {
				_, err = r.ReadSlice('\n')
			}
			if err != nil {
				b.Fatal(err)
			}
			if bytes.HasPrefix(l, []byte("t ")) {
				if !bytes.HasPrefix(l, []byte("t OK")) {
					b.Fatalf("%s: %s", cmd, l)
				}
				return lines
			}
			lines++
			// Skip literals (envelope strings with 8-bit or quotes).
			for bytes.HasSuffix(l, []byte("}\r\n")) {
				i := bytes.LastIndexByte(l, '{')
				var k int
				fmt.Sscanf(string(l[i+1:]), "%d", &k)
				if _, err := r.Discard(k); err != nil {
					b.Fatal(err)
				}
				if l, err = r.ReadSlice('\n'); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	r.ReadSlice('\n') // greeting
	run("LOGIN bob@example.com secret")
	run("ENABLE IMAP4rev2")
	run("SELECT INBOX")
	const cmd = "UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)"
	if got := run(cmd); got != n { // the first fetch (warms caches)
		b.Fatalf("%d responses", got)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(cmd)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
}

// benchMessage is the i-th message of the benchmark mailbox: mostly plain
// text, every third one multipart with an attachment, every seventh a reply.
func benchMessage(i int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "Return-Path: <sender%d@example.org>\r\n", i%97)
	fmt.Fprintf(&s, "Received: from mx%d.example.org (mx%d.example.org [192.0.2.%d]) by mail.example.com with ESMTPS id %08x for <bob@example.com>; Fri, 02 Jan 2026 03:04:05 +0000\r\n", i%5, i%5, i%250, i)
	fmt.Fprintf(&s, "From: \"Sender Number %d\" <sender%d@example.org>\r\n", i%97, i%97)
	s.WriteString("To: Bob <bob@example.com>, \"Team\" <team@example.com>\r\n")
	if i%4 == 0 {
		s.WriteString("Cc: carol@example.org, dave@example.net\r\n")
	}
	fmt.Fprintf(&s, "Subject: %sStatus report number %d for the project =?UTF-8?Q?K=C3=B6ln?=\r\n", map[bool]string{true: "Re: ", false: ""}[i%7 == 0], i)
	fmt.Fprintf(&s, "Date: Fri, 02 Jan 2026 %02d:%02d:05 +0100\r\n", i/60%24, i%60)
	fmt.Fprintf(&s, "Message-ID: <msg%d.%d@example.org>\r\n", i, i*7919)
	if i%7 == 0 && i > 0 {
		fmt.Fprintf(&s, "In-Reply-To: <msg%d.%d@example.org>\r\n", i-1, (i-1)*7919)
	}
	s.WriteString("MIME-Version: 1.0\r\n")
	body := strings.Repeat(fmt.Sprintf("Line of text in message %d, with some words to make it look real.\r\n", i), 10+i%30)
	if i%3 != 0 {
		s.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		s.WriteString(body)
		return s.String()
	}
	s.WriteString("Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\nThis is a multi-part message in MIME format.\r\n")
	s.WriteString("--=_b\r\nContent-Type: multipart/alternative; boundary=\"=_a\"\r\n\r\n")
	s.WriteString("--=_a\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + body)
	s.WriteString("--=_a\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<html><body>" + body + "</body></html>\r\n--=_a--\r\n")
	att := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{byte(i), 1, 2, 3}, 600))
	fmt.Fprintf(&s, "--=_b\r\nContent-Type: application/pdf; name=\"report-%d.pdf\"\r\nContent-Disposition: attachment; filename=\"report-%d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", i, i)
	for len(att) > 76 {
		s.WriteString(att[:76] + "\r\n")
		att = att[76:]
	}
	s.WriteString(att + "\r\n--=_b--\r\n")
	return s.String()
}

func TestStructCache(t *testing.T) {
	c := newStructCache(4 * (entryOverhead + 32 + 100))
	key := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 32) }
	val := bytes.Repeat([]byte("x"), 100)
	for i := 0; i < 10; i++ {
		c.put(key(i), structEnvelope, val)
	}
	if c.size > c.max || len(c.items) != 4 || c.lru.Len() != 4 {
		t.Fatalf("size %d of %d, %d items", c.size, c.max, len(c.items))
	}
	var v [3][]byte
	if c.lookup(key(0), []structKind{structEnvelope}, &v) {
		t.Error("oldest entry kept")
	}
	if !c.lookup(key(9), []structKind{structEnvelope}, &v) || string(v[structEnvelope]) != string(val) {
		t.Error("newest entry lost")
	}
	if c.lookup(key(9), []structKind{structEnvelope, structBody}, &v) {
		t.Error("a kind never stored was found")
	}
	c.put(key(9), structBody, []byte("b"))
	if !c.lookup(key(9), []structKind{structEnvelope, structBody}, &v) || string(v[structBody]) != "b" {
		t.Error("second kind not stored")
	}
	if c.lookup(nil, []structKind{structEnvelope}, &v) {
		t.Error("empty key found")
	}
}

// The structure cache answers exactly what rendering the parsed form does,
// and a FETCH that needs sections too still works with it.
func TestFetchStructCached(t *testing.T) {
	saved := renderCache
	renderCache = newStructCache(structCacheMax)
	t.Cleanup(func() { renderCache = saved })
	e := newTestEnv(t)
	e.appendAt("INBOX", fetchSimple, fetchDate)
	e.appendAt("INBOX", fetchMultipart, fetchDate)
	e.appendAt("INBOX", fetchSimple, fetchDate) // same blob as 1
	c := e.selectRev2()
	cold := c.fetch("FETCH 1:3 (ENVELOPE BODYSTRUCTURE BODY)")
	if len(renderCache.items) != 2 {
		t.Errorf("%d cache entries, want 2", len(renderCache.items))
	}
	warm := c.fetch("FETCH 1:3 (ENVELOPE BODYSTRUCTURE BODY)")
	if strings.Join(cold, "\n") != strings.Join(warm, "\n") || len(warm) != 3 {
		t.Errorf("cold %q\nwarm %q", cold, warm)
	}
	// BODYSTRUCTURE rendered from the parsed form (loaded for the
	// section) is the cached one.
	bs := warm[1][strings.Index(warm[1], "BODYSTRUCTURE "):strings.Index(warm[1], " BODY (")]
	c.fetch1("FETCH 2 (BODYSTRUCTURE BODY.PEEK[4.HEADER.FIELDS (SUBJECT)])",
		"* 2 FETCH ("+bs+" BODY[4.HEADER.FIELDS (SUBJECT)] "+lit("Subject: Inner\r\n\r\n")+")")
}

var fetchFuzzOnce sync.Once

var literalAtEnd = regexp.MustCompile(`~?\{([0-9]+)\}\r\n$`)

// FuzzFetch feeds arbitrary FETCH arguments to a session whose mailbox
// holds the test messages: no panic, no hang, and the output stays well
// framed (every literal as long as announced), so the session can go on.
func FuzzFetch(f *testing.F) {
	for _, s := range []string{
		"1:* (UID FLAGS BODY.PEEK[1.2.MIME] BINARY.PEEK[3]<2.5>)", "2 BODY[4.HEADER.FIELDS (SUBJECT FROM)]<3.9>",
		"1:5 (BINARY.SIZE[2.2] BINARY[] BODY[TEXT]<1.100> RFC822.HEADER)", "* FULL", "1,3 (BODY[4.1.MIME] MODSEQ SAVEDATE)",
		"1:* (FLAGS) (CHANGEDSINCE 1)", "2 BODY[HEADER.FIELDS.NOT (\"X\" {1+}\r\nY)]", "4 BINARY.PEEK[1]", "3 (BINARY.PEEK[]<0.0>)",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := fuzzServer(t)
		fetchFuzzOnce.Do(func() {
			ctx := context.Background()
			a, err := srv.Store.CreateAccount(ctx, "fetchfuzz@example.com", "{PLAIN}secret", 0)
			if err != nil {
				panic(err)
			}
			mb, err := srv.Store.Mailbox(ctx, a, "INBOX")
			if err != nil {
				panic(err)
			}
			for _, m := range []string{fetchSimple, fetchMultipart, fetchBase64, "Subject: nul\r\n\r\na\x00b\r\n",
				"Subject: uu\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n"} {
				if _, err := srv.Store.Append(ctx, a, mb.ID, strings.NewReader(m), storage.AppendOptions{}); err != nil {
					panic(err)
				}
			}
		})
		client, server := net.Pipe()
		c := newConn(srv, server, false)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Serve()
		}()
		var out bytes.Buffer
		read := make(chan struct{})
		go func() {
			io.Copy(&out, client)
			close(read)
		}()
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write([]byte("0 LOGIN fetchfuzz@example.com secret\r\ns SELECT INBOX\r\nf1 FETCH "))
		client.Write(data)
		client.Write([]byte("\r\nzz LOGOUT\r\n"))
		// More than one command's arguments (a literal that may swallow the
		// LOGOUT, a line break that may start IDLE): hang up, as FuzzSession
		// does, and check only that the session ends without a panic.
		more := bytes.ContainsAny(data, "{\r\n")
		if more {
			client.Close()
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("session hung on %q", data)
		}
		client.Close()
		<-read
		fuzzEnv.mu.Lock()
		defer fuzzEnv.mu.Unlock()
		if fuzzEnv.panic.Len() > 0 {
			t.Fatalf("panic: %s (input %q)", strings.TrimSpace(fuzzEnv.panic.String()), data)
		}
		if more {
			return
		}
		outs := out.String()
		r := bufio.NewReader(strings.NewReader(outs))
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			if !strings.HasPrefix(l, "* ") && !strings.HasPrefix(l, "+ ") && !strings.HasPrefix(l, "0 ") &&
				!strings.HasPrefix(l, "s ") && !strings.HasPrefix(l, "f1 ") && !strings.HasPrefix(l, "zz ") {
				t.Fatalf("bad framing at %q (input %q)", l, data)
			}
			for {
				m := literalAtEnd.FindStringSubmatch(l)
				if m == nil {
					break
				}
				n, _ := strconv.Atoi(m[1])
				if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
					t.Fatalf("short literal in %q (input %q)", l, data)
				}
				if l, err = r.ReadString('\n'); err != nil {
					t.Fatalf("response cut after a literal (input %q)", data)
				}
			}
		}
		if !strings.Contains(outs, "\r\nzz OK LOGOUT") {
			t.Fatalf("session did not go on to LOGOUT (input %q): %q", data, outs)
		}
	})
}
