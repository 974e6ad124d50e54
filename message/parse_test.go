package message

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// crlf turns a readable test message (LF, leading tab indentation not used)
// into CRLF form.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func mustParse(t *testing.T, msg string) *Parsed {
	t.Helper()
	p, err := Parse(strings.NewReader(msg))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkInvariants(t, p, []byte(msg))
	return p
}

// body returns the bytes of part's body in msg.
func body(msg string, part *Part) string {
	return msg[part.BodyOffset : part.BodyOffset+part.BodySize]
}

func header(msg string, part *Part) string {
	return msg[part.Offset : part.Offset+part.HeaderSize]
}

func TestSimpleText(t *testing.T) {
	msg := crlf(`From: "Alice Example" <Alice@Example.org>
To: bob@example.com
Subject: Re: [list] Hello
Date: Tue, 2 Jan 2024 10:00:00 +0100
Message-ID: <m1@example.org>
In-Reply-To: <m0@example.org>
References: <a@x> <m0@example.org>

Hello Bob,
  how are you?
`)
	p := mustParse(t, msg)
	if p.Size != int64(len(msg)) || p.Lines != 10 {
		t.Errorf("Size %d Lines %d, want %d 10", p.Size, p.Lines, len(msg))
	}
	r := p.Root
	if got := body(msg, r); got != "Hello Bob,\r\n  how are you?\r\n" {
		t.Errorf("body %q", got)
	}
	if r.BodyLines != 2 || r.Offset != 0 || r.BodyOffset != r.HeaderSize {
		t.Errorf("root %+v", r)
	}
	if !strings.HasSuffix(header(msg, r), "\r\n\r\n") {
		t.Errorf("header does not end with the blank line: %q", header(msg, r))
	}
	want := `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 28 2 NIL NIL NIL NIL)`
	if got := string(p.AppendBodyStructure(nil, true)); got != want {
		t.Errorf("BODYSTRUCTURE\n got %s\nwant %s", got, want)
	}
	want = `("Tue, 2 Jan 2024 10:00:00 +0100" "Re: [list] Hello" (("Alice Example" NIL "Alice" "Example.org")) (("Alice Example" NIL "Alice" "Example.org")) (("Alice Example" NIL "Alice" "Example.org")) ((NIL NIL "bob" "example.com")) NIL NIL "<m0@example.org>" "<m1@example.org>")`
	if got := string(p.AppendEnvelope(nil)); got != want {
		t.Errorf("ENVELOPE\n got %s\nwant %s", got, want)
	}
	if p.Subject != "Re: [list] Hello" || p.BaseSubject != "Hello" {
		t.Errorf("Subject %q BaseSubject %q", p.Subject, p.BaseSubject)
	}
	if p.From != "alice" || p.To != "bob" || p.Cc != "" {
		t.Errorf("From %q To %q Cc %q", p.From, p.To, p.Cc)
	}
	if p.FromDisplay != "alice example" || p.ToDisplay != "bob@example.com" {
		t.Errorf("FromDisplay %q ToDisplay %q", p.FromDisplay, p.ToDisplay)
	}
	if !p.Date.Equal(time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("Date %v", p.Date)
	}
	if p.MessageID != "m1@example.org" || p.InReplyTo != "m0@example.org" ||
		len(p.References) != 2 || p.References[1] != "m0@example.org" {
		t.Errorf("MessageID %q InReplyTo %q References %q", p.MessageID, p.InReplyTo, p.References)
	}
	if p.Preview != "Hello Bob, how are you?" {
		t.Errorf("Preview %q", p.Preview)
	}
	if p.Part([]int{1}) != r || p.Part(nil) != r || p.Part([]int{2}) != nil || p.Part([]int{1, 1}) != nil {
		t.Error("Part lookup on a single-part message")
	}
}

const nestedMsg = `From: a@example.org
Subject: nested
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait
--inner
Content-Type: text/html; charset=utf-8

<p>Caf&eacute; <b>au</b> lait</p>
--inner--
--outer
Content-Type: application/pdf; name="a.pdf"
Content-Disposition: attachment; filename="a.pdf"
Content-Transfer-Encoding: base64
Content-ID: <pdf@x>
Content-Description: the report
Content-Language: en, fr
Content-Location: http://example.org/a.pdf
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

JVBERi0xLjQK
--outer--
epilogue
`

func TestMultipartNested(t *testing.T) {
	msg := crlf(nestedMsg)
	p := mustParse(t, msg)
	r := p.Root
	if r.Flags&PartMultipart == 0 || len(r.Children) != 2 {
		t.Fatalf("root: flags %b, %d children", r.Flags, len(r.Children))
	}
	alt := r.Children[0]
	if alt.Subtype != "alternative" || len(alt.Children) != 2 {
		t.Fatalf("alternative: %+v", alt)
	}
	plain, html, pdf := alt.Children[0], alt.Children[1], r.Children[1]
	if got := body(msg, plain); got != "Caf=C3=A9 au lait" {
		t.Errorf("plain body %q", got)
	}
	if got := body(msg, html); got != "<p>Caf&eacute; <b>au</b> lait</p>" {
		t.Errorf("html body %q", got)
	}
	if got := body(msg, pdf); got != "JVBERi0xLjQK" {
		t.Errorf("pdf body %q", got)
	}
	if got := body(msg, alt); !strings.HasPrefix(got, "--inner\r\n") || !strings.HasSuffix(got, "--inner--") {
		t.Errorf("alternative body %q", got)
	}
	if got := body(msg, r); !strings.HasPrefix(got, "preamble\r\n--outer") || !strings.HasSuffix(got, "--outer--\r\nepilogue\r\n") {
		t.Errorf("root body %q", got)
	}
	if !strings.HasPrefix(header(msg, plain), "Content-Type: text/plain") {
		t.Errorf("plain header %q", header(msg, plain))
	}
	want := `((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 17 0 NIL NIL NIL NIL)` +
		`("text" "html" ("charset" "utf-8") NIL NIL "7bit" 33 0 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)` +
		`("application" "pdf" ("name" "a.pdf") "<pdf@x>" "the report" "base64" 12 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "a.pdf")) ("en" "fr") "http://example.org/a.pdf")` +
		` "mixed" ("boundary" "outer") NIL NIL NIL)`
	if got := string(p.AppendBodyStructure(nil, true)); got != want {
		t.Errorf("BODYSTRUCTURE\n got %s\nwant %s", got, want)
	}
	want = `((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 17 0)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 33 0) "alternative")("application" "pdf" ("name" "a.pdf") "<pdf@x>" "the report" "base64" 12) "mixed")`
	if got := string(p.AppendBodyStructure(nil, false)); got != want {
		t.Errorf("BODY\n got %s\nwant %s", got, want)
	}
	for path, want := range map[string]*Part{"1": alt, "1.1": plain, "1.2": html, "2": pdf} {
		if got := p.Part(parsePath(path)); got != want {
			t.Errorf("Part(%s) = %p, want %p", path, got, want)
		}
	}
	if p.Part([]int{3}) != nil || p.Part([]int{1, 3}) != nil || p.Part([]int{2, 1}) != nil || p.Part([]int{0}) != nil {
		t.Error("Part returned a part that does not exist")
	}
	if p.Preview != "Café au lait" {
		t.Errorf("Preview %q", p.Preview)
	}
}

func parsePath(s string) []int {
	var path []int
	for _, f := range strings.Split(s, ".") {
		n := 0
		for _, c := range f {
			n = n*10 + int(c-'0')
		}
		path = append(path, n)
	}
	return path
}

func TestMessageRFC822(t *testing.T) {
	msg := crlf(`From: outer@example.org
Subject: Fwd: inner
Content-Type: multipart/mixed; boundary=b

--b

see attached
--b
Content-Type: message/rfc822

From: Inner <inner@example.org>
Subject: inner
Content-Type: multipart/alternative; boundary=c

--c

inner text
--c
Content-Type: text/html

<i>inner</i>
--c--
--b--
`)
	p := mustParse(t, msg)
	att := p.Part([]int{2})
	if att == nil || att.Flags&PartMessage == 0 || att.Message == nil || att.MessageEnvelope == nil {
		t.Fatalf("part 2 is not an encapsulated message: %+v", att)
	}
	if att.Message.Offset != att.BodyOffset || att.Message.Offset+att.Message.HeaderSize+att.Message.BodySize != att.BodyOffset+att.BodySize {
		t.Errorf("encapsulated message does not fill the part's body: %+v %+v", att, att.Message)
	}
	if got := body(msg, p.Part([]int{2, 1})); got != "inner text" {
		t.Errorf("2.1 body %q", got)
	}
	if got := body(msg, p.Part([]int{2, 2})); got != "<i>inner</i>" {
		t.Errorf("2.2 body %q", got)
	}
	if p.Part([]int{2, 3}) != nil {
		t.Error("2.3 exists")
	}
	if att.MessageEnvelope.Subject != "inner" {
		t.Errorf("inner subject %q", att.MessageEnvelope.Subject)
	}
	want := `(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 0)("message" "rfc822" NIL NIL NIL "7bit" 170 (NIL "inner" (("Inner" NIL "inner" "example.org")) (("Inner" NIL "inner" "example.org")) (("Inner" NIL "inner" "example.org")) NIL NIL NIL NIL NIL) (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 12 0) "alternative") 11) "mixed")`
	if got := string(p.AppendBodyStructure(nil, false)); got != want {
		t.Errorf("BODY\n got %s\nwant %s", got, want)
	}
	if p.Preview != "see attached" {
		t.Errorf("Preview %q", p.Preview)
	}
}

func TestMissingBoundary(t *testing.T) {
	msg := crlf(`Content-Type: multipart/mixed; boundary=nothere

--other
Content-Type: text/plain

text
`)
	p := mustParse(t, msg)
	r := p.Root
	if len(r.Children) != 0 || r.BodySize != int64(len(msg))-r.HeaderSize {
		t.Errorf("root %+v", r)
	}
	want := `(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" ("boundary" "nothere") NIL NIL NIL)`
	if got := string(p.AppendBodyStructure(nil, true)); got != want {
		t.Errorf("BODYSTRUCTURE\n got %s\nwant %s", got, want)
	}

	// A multipart type with no boundary parameter is not parsed as one.
	p = mustParse(t, crlf("Content-Type: multipart/mixed\n\n--x\n\nhi\n"))
	want = `("multipart" "mixed" NIL NIL NIL "7bit" 11)`
	if got := string(p.AppendBodyStructure(nil, false)); got != want {
		t.Errorf("BODY\n got %s\nwant %s", got, want)
	}

	// A part never closed ends at the end of input.
	msg = crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nunclosed\n")
	p = mustParse(t, msg)
	if len(p.Root.Children) != 1 || body(msg, p.Root.Children[0]) != "unclosed\r\n" {
		t.Errorf("unclosed part: %+v", p.Root.Children)
	}
}

func TestNoSeparator(t *testing.T) {
	msg := crlf("Subject: no body\nFrom: a@b.example\nX-Last: yes")
	p := mustParse(t, msg)
	r := p.Root
	if r.HeaderSize != int64(len(msg)) || r.BodySize != 0 || r.BodyOffset != int64(len(msg)) {
		t.Errorf("root %+v", r)
	}
	if p.Envelope.Subject != "no body" || len(p.Envelope.From) != 1 {
		t.Errorf("envelope %+v", p.Envelope)
	}
	// Header only, ending in a line ending.
	p = mustParse(t, crlf("Subject: x\n"))
	if p.Root.HeaderSize != 12 || p.Root.BodySize != 0 {
		t.Errorf("root %+v", p.Root)
	}
	// Empty input.
	p = mustParse(t, "")
	if p.Size != 0 || p.Root == nil {
		t.Errorf("empty: %+v", p)
	}
	want := `(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)`
	if got := string(p.AppendEnvelope(nil)); got != want {
		t.Errorf("ENVELOPE %s", got)
	}
}

func TestEightBitHeaders(t *testing.T) {
	msg := crlf("From: Jörg <jörg@exämple.org>\nSubject: Grüße\n\nbody\n")
	p := mustParse(t, msg)
	want := "(NIL {7}\r\nGrüße (({5}\r\nJörg NIL {5}\r\njörg {12}\r\nexämple.org)) (({5}\r\nJörg NIL {5}\r\njörg {12}\r\nexämple.org)) (({5}\r\nJörg NIL {5}\r\njörg {12}\r\nexämple.org)) NIL NIL NIL NIL NIL)"
	if got := string(p.AppendEnvelope(nil)); got != want {
		t.Errorf("ENVELOPE\n got %q\nwant %q", got, want)
	}
	if p.Subject != "Grüße" || p.From != "jörg" || p.FromDisplay != "jörg" {
		t.Errorf("Subject %q From %q FromDisplay %q", p.Subject, p.From, p.FromDisplay)
	}
	// Latin-1 bytes: not UTF-8, still rendered (literal), sort fields valid UTF-8.
	p = mustParse(t, "Subject: caf\xe9\r\n\r\n")
	if got := string(p.AppendEnvelope(nil)); !strings.Contains(got, "{4}\r\ncaf\xe9") {
		t.Errorf("ENVELOPE %q", got)
	}
	if p.Subject != "caf\uFFFD" {
		t.Errorf("Subject %q", p.Subject)
	}
}

func TestNULBytes(t *testing.T) {
	msg := "Subject: a\x00b\r\nContent-Type: text/plain; name=\"x\x00y\"\r\n\r\nbo\x00dy\r\n"
	p := mustParse(t, msg)
	if got := string(p.AppendEnvelope(nil)); !strings.Contains(got, "{3}\r\na\x80b") {
		t.Errorf("ENVELOPE %q", got)
	}
	if got := string(p.AppendBodyStructure(nil, false)); !strings.Contains(got, "{3}\r\nx\x80y") {
		t.Errorf("BODY %q", got)
	}
	if p.Root.BodySize != 7 || strings.Contains(p.Preview, "\x00") {
		t.Errorf("root %+v preview %q", p.Root, p.Preview)
	}
}

func TestBareLF(t *testing.T) {
	msg := strings.ReplaceAll(nestedMsg, "\r\n", "\n")
	p := mustParse(t, msg)
	plain := p.Part([]int{1, 1})
	if plain == nil || body(msg, plain) != "Caf=C3=A9 au lait" {
		t.Fatalf("plain part %+v", plain)
	}
	if got := body(msg, p.Part([]int{2})); got != "JVBERi0xLjQK" {
		t.Errorf("pdf body %q", got)
	}
	if p.Size != int64(len(msg)) || p.Lines != int64(strings.Count(msg, "\n")) {
		t.Errorf("Size %d Lines %d", p.Size, p.Lines)
	}
	// Mixed endings.
	msg = "Subject: mixed\n\r\nline1\r\nline2\n"
	p = mustParse(t, msg)
	if p.Root.HeaderSize != 17 || body(msg, p.Root) != "line1\r\nline2\n" || p.Root.BodyLines != 2 {
		t.Errorf("root %+v", p.Root)
	}
}

func TestEncodedSubject(t *testing.T) {
	for _, tc := range []struct{ raw, subject, base string }{
		{"=?utf-8?q?Re:_caf=C3=A9?=", "Re: café", "café"},
		{"=?ISO-8859-1?Q?Fwd:_Gr=FC=DFe?= =?ISO-8859-1?Q?_aus_Berlin?=", "Fwd: Grüße aus Berlin", "Grüße aus Berlin"},
		{"=?utf-8?b?W2xpc3RdIFJlOiDDqXTDqQ==?=", "[list] Re: été", "été"},
		{"=?x-unknown?q?abc?=", "=?x-unknown?q?abc?=", "=?x-unknown?q?abc?="},
		{"=?utf-8?q?broken", "=?utf-8?q?broken", "=?utf-8?q?broken"},
		{"folded\r\n subject", "folded subject", "folded subject"},
	} {
		p := mustParse(t, "Subject: "+tc.raw+"\r\n\r\n")
		if p.Subject != tc.subject || p.BaseSubject != tc.base {
			t.Errorf("%q: Subject %q BaseSubject %q, want %q %q", tc.raw, p.Subject, p.BaseSubject, tc.subject, tc.base)
		}
	}
	// ENVELOPE keeps the encoded words (RFC 9051 section 7.5.2).
	p := mustParse(t, "Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\n")
	if got := string(p.AppendEnvelope(nil)); !strings.HasPrefix(got, `(NIL "=?utf-8?q?caf=C3=A9?=" `) {
		t.Errorf("ENVELOPE %s", got)
	}
}

func TestBaseSubject(t *testing.T) {
	for in, want := range map[string]string{
		"Re: hello":                              "hello",
		"RE: Re: re: hello":                      "hello",
		"Fwd: hello (fwd)":                       "hello",
		"[list] Re: hello":                       "hello",
		"Re: [list] hello":                       "hello",
		"[list] hello":                           "hello",
		"[only]":                                 "[only]",
		"[fwd: hello]":                           "hello",
		"[Fwd: Re: [x] hello (fwd)]":             "hello",
		"Re[2]: hello":                           "hello",
		"fw:  \t hello   world  ":                "hello world",
		"[foo] Fwd: [bar] Re: fw: b (fWd) (fwd)": "b",
		"Reply":                                  "Reply",
		"":                                       "",
	} {
		if got := BaseSubject(in); got != want {
			t.Errorf("BaseSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct{ hdr, want string }{
		{"To: undisclosed-recipients:;", `((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))`},
		{"To: team: a@x.org, B <b@x.org>; , c@y.org", `((NIL NIL "team" NIL)(NIL NIL "a" "x.org")("B" NIL "b" "x.org")(NIL NIL NIL NIL)(NIL NIL "c" "y.org"))`},
		{"To:", `NIL`},
		{"To:   ", `NIL`},
		{"To: ,,", `NIL`},
		{"To: <>", `NIL`},
		{"To: a@x.org (Comment Name)", `(("Comment Name" NIL "a" "x.org"))`},
		{"To: <@relay1,@relay2:a@x.org>", `((NIL "@relay1,@relay2" "a" "x.org"))`},
		{`To: "Doe, John" <j@x.org>`, `(("Doe, John" NIL "j" "x.org"))`},
		{`To: "a\"b" <q@x.org>`, `(({3}` + "\r\n" + `a"b NIL "q" "x.org"))`},
		{`To: "quoted local"@x.org`, `((NIL NIL "quoted local" "x.org"))`},
		{"To: user", `((NIL NIL "user" "MISSING_DOMAIN"))`},
		{"To: @x.org", `((NIL NIL "MISSING_MAILBOX" "x.org"))`},
		{"To: John Smith", `(("John Smith" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))`},
		{"To: a@[192.0.2.1]", `((NIL NIL "a" "[192.0.2.1]"))`},
		{"To: Multi\r\n Line <m@x.org>", `(("Multi Line" NIL "m" "x.org"))`},
	} {
		p := mustParse(t, tc.hdr+"\r\n\r\n")
		got := string(appendAddresses(nil, p.Envelope.To))
		if got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.hdr, got, tc.want)
		}
	}
	// Sender and Reply-To default to From.
	p := mustParse(t, "From: a@x.org\r\nReply-To: r@x.org\r\n\r\n")
	want := `(NIL NIL ((NIL NIL "a" "x.org")) ((NIL NIL "a" "x.org")) ((NIL NIL "r" "x.org")) NIL NIL NIL NIL NIL)`
	if got := string(p.AppendEnvelope(nil)); got != want {
		t.Errorf("ENVELOPE\n got %s\nwant %s", got, want)
	}
	// SORT skips group markers.
	p = mustParse(t, "To: grp: First <F@x.org>;\r\n\r\n")
	if p.To != "f" || p.ToDisplay != "first" {
		t.Errorf("To %q ToDisplay %q", p.To, p.ToDisplay)
	}
}

func TestMissingDate(t *testing.T) {
	p := mustParse(t, "Subject: x\r\n\r\n")
	if !p.Date.IsZero() {
		t.Errorf("Date %v", p.Date)
	}
	if got := string(p.AppendEnvelope(nil)); !strings.HasPrefix(got, `(NIL "x" `) {
		t.Errorf("ENVELOPE %s", got)
	}
	p = mustParse(t, "Date: not a date\r\n\r\n")
	if !p.Date.IsZero() || !strings.HasPrefix(string(p.AppendEnvelope(nil)), `("not a date" `) {
		t.Errorf("Date %v", p.Date)
	}
	p = mustParse(t, "Date: Mon, 3 Jun 2024 08:01:02 -0700 (PDT)\r\n\r\n")
	if !p.Date.Equal(time.Date(2024, 6, 3, 15, 1, 2, 0, time.UTC)) {
		t.Errorf("Date %v", p.Date)
	}
	p = mustParse(t, "Date:\r\n\r\n")
	if got := string(p.AppendEnvelope(nil)); !strings.HasPrefix(got, `("" NIL`) {
		t.Errorf("ENVELOPE %s", got)
	}
}

func TestDigestAndEmptyBoundary(t *testing.T) {
	msg := crlf(`Content-Type: multipart/digest; boundary=d

--d

Subject: one

1
--d
Content-Type: text/plain

not a message
--d--
`)
	p := mustParse(t, msg)
	one := p.Part([]int{1})
	if one.Flags&PartMessage == 0 || one.MessageEnvelope.Subject != "one" {
		t.Errorf("digest default is not message/rfc822: %+v", one)
	}
	if got := string(one.AppendBodyStructure(nil, false)); !strings.HasPrefix(got, `("message" "rfc822" NIL NIL NIL "7bit" 17 (NIL "one"`) {
		t.Errorf("BODY %s", got)
	}
	if p.Part([]int{2}).Flags&PartMessage != 0 {
		t.Error("typed part in digest parsed as message")
	}
}

func TestPreviewHTML(t *testing.T) {
	msg := crlf(`Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: base64

PGh0bWw+PGhlYWQ+PHRpdGxlPlQ8L3RpdGxlPjxzdHlsZT5we308L3N0eWxlPjwvaGVhZD48Ym9k
eT48cD5HcvzfZSAmYW1wOyA8YnI+bWVociE8L3A+PC9ib2R5PjwvaHRtbD4=
`)
	p := mustParse(t, msg)
	if p.Preview != "Grüße & mehr!" {
		t.Errorf("Preview %q", p.Preview)
	}
	long := strings.Repeat("wörd ", 100)
	p = mustParse(t, "Content-Type: text/plain; charset=utf-8\r\n\r\n"+long)
	if n := len([]rune(p.Preview)); n > previewChars || n < previewChars-5 || strings.HasSuffix(p.Preview, " ") {
		t.Errorf("preview has %d characters", n)
	}
	// An attachment does not make the preview.
	p = mustParse(t, "Content-Disposition: attachment\r\n\r\nsecret\r\n")
	if p.Preview != "" {
		t.Errorf("Preview %q", p.Preview)
	}
}

func TestLongLinesAndBoundaries(t *testing.T) {
	// A line longer than the read buffer holding what looks like a
	// boundary in the middle must not split the part.
	long := strings.Repeat("x", readBufSize+100)
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n" + long + "\r\n--b\r\n\r\n" +
		strings.Repeat("y", readBufSize-1) + "--b\r\nz\r\n--b--\r\n"
	p := mustParse(t, msg)
	if len(p.Root.Children) != 2 {
		t.Fatalf("%d children", len(p.Root.Children))
	}
	if got := body(msg, p.Root.Children[0]); got != long {
		t.Errorf("first body has %d bytes", len(got))
	}
	if got := body(msg, p.Root.Children[1]); !strings.HasSuffix(got, "--b\r\nz") {
		t.Errorf("second body ends %q", got[len(got)-10:])
	}
}

func TestLimits(t *testing.T) {
	// Deep nesting stops at maxDepth without failing.
	var sb strings.Builder
	for i := range maxDepth + 10 {
		sb.WriteString("Content-Type: multipart/mixed; boundary=b" + string(rune('A'+i%26)) + strings.Repeat("x", i) + "\r\n\r\n--b" + string(rune('A'+i%26)) + strings.Repeat("x", i) + "\r\n")
	}
	sb.WriteString("\r\ntext\r\n")
	mustParse(t, sb.String())

	// Many parts stop at maxParts.
	sb.Reset()
	sb.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range maxParts + 100 {
		sb.WriteString("--b\r\n\r\nx\r\n")
	}
	p := mustParse(t, sb.String())
	if n := len(p.Root.Children); n != maxParts-1 {
		t.Errorf("%d children", n)
	}
}

// genReader produces n bytes: a multipart message whose attachment is one
// enormous base64 body, without holding it.
type genReader struct {
	head, tail string
	n, done    int64
}

func (g *genReader) Read(b []byte) (int, error) {
	total := int64(len(g.head)) + g.n + int64(len(g.tail))
	if g.done >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(b) && g.done < total {
		switch {
		case g.done < int64(len(g.head)):
			b[i] = g.head[g.done]
		case g.done < int64(len(g.head))+g.n:
			if (g.done-int64(len(g.head)))%78 == 76 {
				b[i] = '\r'
			} else if (g.done-int64(len(g.head)))%78 == 77 {
				b[i] = '\n'
			} else {
				b[i] = 'Q'
			}
		default:
			b[i] = g.tail[g.done-int64(len(g.head))-g.n]
		}
		i++
		g.done++
	}
	return i, nil
}

func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB parse")
	}
	const size = 50 << 20
	g := &genReader{
		head: crlf("Subject: big\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhello\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"),
		n:    size / 78 * 78,
		tail: crlf("\n--b--\n"),
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := Parse(g)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("parsing a %d-byte message allocated %d bytes", p.Size, alloc)
	}
	if p.Part([]int{2}).BodySize != size/78*78 {
		t.Errorf("attachment size %d", p.Part([]int{2}).BodySize)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestReadError(t *testing.T) {
	if _, err := Parse(io.MultiReader(strings.NewReader("Subject: x\r\n"), errReader{})); err != io.ErrUnexpectedEOF {
		t.Errorf("err %v", err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, msg := range []string{crlf(nestedMsg), "", "Subject: x\r\n", crlf(`From: a@x.org
To: g: b@x.org;
Date: Tue, 2 Jan 2024 10:00:00 +0100
References: <a@b> <c@d>
Content-Type: message/rfc822

Subject: inner
Content-Language: de

x
`)} {
		p := mustParse(t, msg)
		checkRoundTrip(t, p)
	}
	if _, err := Unmarshal([]byte{99}); err == nil {
		t.Error("unknown version accepted")
	}
	if _, err := Unmarshal(nil); err == nil {
		t.Error("empty accepted")
	}
	enc := mustParse(t, crlf(nestedMsg)).Marshal()
	for i := range enc {
		if _, err := Unmarshal(enc[:i]); err == nil {
			t.Errorf("truncated encoding (%d of %d bytes) accepted", i, len(enc))
		}
	}
}

func checkRoundTrip(t testing.TB, p *Parsed) {
	t.Helper()
	enc := p.Marshal()
	q, err := Unmarshal(enc)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !bytes.Equal(q.Marshal(), enc) {
		t.Error("Marshal(Unmarshal(Marshal(p))) differs")
	}
	if !p.Date.Equal(q.Date) || p.Date.IsZero() != q.Date.IsZero() {
		t.Errorf("Date %v became %v", p.Date, q.Date)
	}
	if !p.Date.IsZero() {
		_, o1 := p.Date.Zone()
		_, o2 := q.Date.Zone()
		if o1 != o2 {
			t.Errorf("zone %d became %d", o1, o2)
		}
	}
	for _, ext := range []bool{false, true} {
		if a, b := p.AppendBodyStructure(nil, ext), q.AppendBodyStructure(nil, ext); !bytes.Equal(a, b) {
			t.Errorf("body structure changed:\n%q\n%q", a, b)
		}
	}
	if a, b := p.AppendEnvelope(nil), q.AppendEnvelope(nil); !bytes.Equal(a, b) {
		t.Errorf("envelope changed:\n%q\n%q", a, b)
	}
	if p.Size != q.Size || p.Lines != q.Lines || p.Subject != q.Subject || p.BaseSubject != q.BaseSubject ||
		p.From != q.From || p.To != q.To || p.Cc != q.Cc || p.FromDisplay != q.FromDisplay || p.ToDisplay != q.ToDisplay ||
		p.MessageID != q.MessageID || p.InReplyTo != q.InReplyTo || strings.Join(p.References, " ") != strings.Join(q.References, " ") ||
		p.Preview != q.Preview {
		t.Errorf("fields changed:\n%+v\n%+v", p, q)
	}
	samePart(t, p.Root, q.Root)
}

func samePart(t testing.TB, a, b *Part) {
	t.Helper()
	if a.Offset != b.Offset || a.HeaderSize != b.HeaderSize || a.BodyOffset != b.BodyOffset || a.BodySize != b.BodySize ||
		a.BodyLines != b.BodyLines || a.Flags != b.Flags || len(a.Children) != len(b.Children) || (a.Message == nil) != (b.Message == nil) {
		t.Fatalf("part changed:\n%+v\n%+v", a, b)
	}
	for i := range a.Children {
		samePart(t, a.Children[i], b.Children[i])
	}
	if a.Message != nil {
		samePart(t, a.Message, b.Message)
	}
}

// checkInvariants checks what every Parse result must satisfy.
func checkInvariants(t testing.TB, p *Parsed, msg []byte) {
	t.Helper()
	if p.Size != int64(len(msg)) {
		t.Fatalf("Size %d, read %d", p.Size, len(msg))
	}
	if p.Lines != int64(bytes.Count(msg, []byte("\n"))) {
		t.Fatalf("Lines %d", p.Lines)
	}
	if p.Root == nil || p.Root.Offset != 0 {
		t.Fatal("bad root")
	}
	var check func(part *Part, lo, hi int64)
	check = func(part *Part, lo, hi int64) {
		if part.Offset < lo || part.HeaderSize < 0 || part.BodyOffset != part.Offset+part.HeaderSize ||
			part.BodySize < 0 || part.BodyOffset+part.BodySize > hi {
			t.Fatalf("part out of bounds [%d,%d]: %+v", lo, hi, part)
		}
		if n := int64(bytes.Count(msg[part.BodyOffset:part.BodyOffset+part.BodySize], []byte("\n"))); n != part.BodyLines {
			t.Fatalf("BodyLines %d, body has %d: %+v", part.BodyLines, n, part)
		}
		end := part.BodyOffset + part.BodySize
		prev := part.BodyOffset
		for _, c := range part.Children {
			check(c, prev, end)
			prev = c.BodyOffset + c.BodySize
		}
		if part.Message != nil {
			check(part.Message, part.BodyOffset, end)
		}
	}
	check(p.Root, 0, p.Size)
	if !utf8Valid(p.Preview) || !utf8Valid(p.Subject) || !utf8Valid(p.BaseSubject) {
		t.Fatalf("invalid UTF-8 in preview %q or subject %q", p.Preview, p.Subject)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// A preview stops at 200 characters whatever the words (RFC 8970 section
// 3.2 allows 256 at most).
func TestPreviewLength(t *testing.T) {
	for _, text := range []string{
		strings.Repeat("ab ", 1000),
		strings.Repeat("0123456789 abcdefghij klmnopqrstuvwxyz 0123456789 abcdefgh\r\n", 160),
		strings.Repeat("x", 5000),
	} {
		if n := utf8.RuneCountInString(previewText(text)); n > previewChars {
			t.Errorf("preview of %d characters", n)
		}
	}
}
