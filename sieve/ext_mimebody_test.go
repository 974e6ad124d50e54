package sieve

import (
	"context"
	"strings"
	"testing"
)

// runFolders runs script on msg (LF line ends, sent as CRLF) and returns
// the fileinto folders in order, "+keep" when the implicit keep stands,
// or "error: ..." for a run-time error.
func runFolders(t *testing.T, script, msg string, opts *Options) string {
	t.Helper()
	s, err := Compile("t", []byte(script), opts)
	if err != nil {
		t.Fatalf("compile %q: %v", script, err)
	}
	m, err := ParseMessage([]byte(strings.ReplaceAll(msg, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run(context.Background(), &Input{Message: m})
	if res.Err != nil {
		return "error: " + res.Err.Error()
	}
	var out []string
	for _, a := range res.Actions {
		if f, ok := a.(*FileInto); ok {
			out = append(out, f.Mailbox)
		}
	}
	if res.ImplicitKeep {
		out = append(out, "+keep")
	}
	return strings.Join(out, " ")
}

// The message of RFC 5173 section 7 (its example), with the parts the
// examples look for.
const rfc5173Msg = `From: Whomever <whoever@example.com>
To: Someone <someone@example.com>
Subject: whatever
Content-Type: multipart/mixed; boundary=outer

This is a multi-part message in MIME format.

--outer
Content-Type: multipart/alternative; boundary=inner

This is a nested multi-part message in MIME format.

--inner
Content-Type: text/plain; charset="us-ascii"

Hello

--inner
Content-Type: text/html; charset="us-ascii"

<html><body>Hello</body></html>

--inner--

This is the end of the inner MIME multipart.

--outer
Content-Type: message/rfc822

From: Someone Else
Subject: hello request

Please say Hello

--outer--

This is the end of the outer MIME multipart.
`

func TestBodyRFC5173Examples(t *testing.T) {
	cases := []struct{ script, want string }{
		// Section 7's examples, as the RFC explains them.
		{`require ["body","fileinto"]; if body :raw :contains "MAKE MONEY FAST" { fileinto "Spam"; }`, "+keep"},
		{`require ["body","fileinto"]; if body :content "text" :contains "Hello" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto"]; if body :content "text/html" :contains "<body>" { fileinto "A"; }`, "A"},
		// "Please say Hello" is in the nested message's body: text/plain by default.
		{`require ["body","fileinto"]; if body :content "text/plain" :contains "Please say" { fileinto "A"; }`, "A"},
		// message/rfc822 matches the nested header only.
		{`require ["body","fileinto"]; if body :content "message/rfc822" :contains "hello request" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto"]; if body :content "message/rfc822" :contains "Please say" { fileinto "A"; }`, "+keep"},
		// multipart matches preamble and epilogue.
		{`require ["body","fileinto"]; if body :content "multipart" :contains "end of the outer" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto"]; if body :content "multipart" :contains "Hello" { fileinto "A"; }`, "+keep"},
		{`require ["body","fileinto"]; if body :content "" :contains "Hello" { fileinto "A"; }`, "A"},
		// :raw sees boundaries and part headers; :text neither, nor markup.
		{`require ["body","fileinto"]; if body :raw :contains "--inner" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto"]; if body :text :contains "boundary" { fileinto "A"; }`, "+keep"},
		{`require ["body","fileinto"]; if body :text :contains "<html>" { fileinto "A"; }`, "+keep"},
		{`require ["body","fileinto"]; if body :contains "Please say Hello" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto","relational","comparator-i;ascii-numeric"];
		  if body :content "text" :count "eq" :comparator "i;ascii-numeric" "3" { fileinto "Three"; }`, "Three"},
	}
	for _, c := range cases {
		if got := runFolders(t, c.script, rfc5173Msg, nil); got != c.want {
			t.Errorf("%s\n got %q, want %q", c.script, got, c.want)
		}
	}
}

func TestBodyDecoding(t *testing.T) {
	msg := `From: a@example.org
Subject: x
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Le caf=E9 est ferm=E9.
Soft line=
 break.
`
	cases := []struct{ script, want string }{
		{`require ["body","fileinto"]; if body :text :contains "café est fermé" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto"]; if body :text :contains "line break" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto"]; if body :raw :contains "caf=E9" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto"]; if body :raw :contains "café" { fileinto "A"; }`, "+keep"},
	}
	for _, c := range cases {
		if got := runFolders(t, c.script, msg, nil); got != c.want {
			t.Errorf("%s\n got %q, want %q", c.script, got, c.want)
		}
	}

	b64 := "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
		"PHA+SGVsbG8gPGI+Y2FmJmVhY3V0ZTs8L2I+PC9wPjxzdHlsZT5wIHtjb2xvcjogcmVkfTwvc3R5bGU+\n--b\nContent-Type: text/plain\nContent-Transfer-Encoding: x-unknown\n\nsecret\n--b--\n"
	cases = []struct{ script, want string }{
		{`require ["body","fileinto"]; if body :text :contains "Hello café" { fileinto "A"; }`, "A"},
		{`require ["body","fileinto"]; if body :text :contains "color" { fileinto "A"; }`, "+keep"},
		{`require ["body","fileinto"]; if body :content "text/html" :contains "<b>" { fileinto "A"; }`, "A"},
		// A part whose transfer encoding is unknown is not searched.
		{`require ["body","fileinto"]; if body :text :contains "secret" { fileinto "A"; }`, "+keep"},
	}
	for _, c := range cases {
		if got := runFolders(t, c.script, b64, nil); got != c.want {
			t.Errorf("%s\n got %q, want %q", c.script, got, c.want)
		}
	}
}

func TestBodyNoBodyAndMatchValues(t *testing.T) {
	// RFC 5173 section 4: a header-only message has no body at all.
	noBody := "From: a@example.org\nSubject: none"
	for _, s := range []string{`:contains ""`, `:is ""`, `:matches "*"`} {
		script := `require ["body","fileinto"]; if body :raw ` + s + ` { fileinto "A"; }`
		if got := runFolders(t, script, noBody, nil); got != "+keep" {
			t.Errorf("%s on a header-only message: %q", s, got)
		}
	}
	if got := runFolders(t, `require ["body","fileinto"]; if body :raw :is "" { fileinto "A"; }`,
		"From: a@example.org\n\n", nil); got != "A" {
		t.Errorf("empty body: %q", got)
	}
	// RFC 5173 section 6: body never sets match variables.
	script := `require ["body","fileinto","variables"];
	if header :matches "from" "*@*" {}
	if body :raw :matches "The * bad *" { fileinto "${1}"; }`
	if got := runFolders(t, script, "From: stephan@example.org\n\nThe big bad body.\n", nil); got != "stephan" {
		t.Errorf("match variables after body: %q", got)
	}
}

func TestBodyLimit(t *testing.T) {
	msg := "From: a@example.org\n\n" + strings.Repeat("x", 3000) + "NEEDLE\n"
	opts := &Options{Limits: Limits{MaxBodySize: 1024}}
	script := `require ["body","fileinto"]; if body :raw :contains "NEEDLE" { fileinto "A"; }`
	if got := runFolders(t, script, msg, opts); got != "+keep" {
		t.Errorf("past the limit: %q", got)
	}
	if got := runFolders(t, script, msg, nil); got != "A" {
		t.Errorf("within the default limit: %q", got)
	}
}

func TestBodyCompileErrors(t *testing.T) {
	for _, s := range []string{
		`require "body"; if body { }`,
		`require "body"; if body 3 { }`,
		`require "body"; if body "a" "b" { }`,
		`require "body"; if body :content "frop" { }`,
		`require "body"; if body :content 3 "frop" { }`,
		`require "body"; if body :content "frop" :raw "frop" { }`,
		`if body "frop" { }`,
	} {
		if _, err := Compile("t", []byte(s), nil); err == nil {
			t.Errorf("%s: compiled", s)
		}
	}
}

const nestedMsg = `From: Hendrik <hendrik@example.com>
To: Harrie <harrie@example.com>
Subject: Harrie
Content-Type: multipart/mixed; boundary=AA
X-Test: AA

This is a multi-part message in MIME format.
--AA
Content-Type: multipart/mixed; boundary=BB
X-Test: BB

--BB
Content-Type: text/plain; charset="us-ascii"
X-Test: CC

Hello

--BB
Content-Type: text/plain; charset="us-ascii"
X-Test: DD

Hello again

--BB--
This is the end of MIME multipart.

--AA
Content-Type: text/html; charset="us-ascii"
Content-Disposition: attachment; filename="page.html"
X-Test: EE

<p>And <b>again</b></p>

--AA--
This is the end of  MIME multipart.
`

func TestForeverypart(t *testing.T) {
	cases := []struct{ script, want string }{
		// Every part, the message first, in order.
		{`require ["foreverypart","mime","variables","fileinto"]; set "s" "";
		  foreverypart { if header :mime "x-test" "*" {} if header :mime :matches "x-test" "*" { set "s" "${s}${1}"; } }
		  fileinto "${s}";`, "AABBCCDDEE"},
		// A nested loop visits the parts inside the outer loop's part.
		{`require ["foreverypart","mime","variables","fileinto"]; set "s" "";
		  foreverypart { if header :mime :is "x-test" "BB" { foreverypart { if header :mime :matches "x-test" "*" { set "s" "${s}${1}"; } } } }
		  fileinto "${s}";`, "CCDD"},
		// break leaves the loop; break :name the named outer one.
		{`require ["foreverypart","mime","variables","fileinto"]; set "s" "";
		  foreverypart { if header :mime :matches "x-test" "*" { set "s" "${s}${1}"; } if header :mime "x-test" "CC" { break; } }
		  fileinto "${s}";`, "AABBCC"},
		{`require ["foreverypart","mime","variables","fileinto"]; set "s" "";
		  foreverypart :name "out" { foreverypart { if header :mime :matches "x-test" "*" { set "s" "${s}${1}"; } break :name "out"; } }
		  fileinto "${s}";`, "BB"},
		// Without :mime, header tests see the message header.
		{`require ["foreverypart","mime","fileinto"];
		  foreverypart { if header :is "x-test" "CC" { fileinto "Wrong"; } }`, "+keep"},
		// :anychild outside a loop looks at every part.
		{`require ["mime","fileinto"]; if header :mime :anychild "x-test" "DD" { fileinto "A"; }`, "A"},
		{`require ["mime","fileinto"]; if header :mime "x-test" "DD" { fileinto "A"; }`, "+keep"},
		{`require ["mime","fileinto"]; if exists :mime :anychild ["content-disposition", "x-test"] { fileinto "A"; }`, "A"},
		{`require ["mime","fileinto"]; if address :mime :anychild :domain "to" "example.com" { fileinto "A"; }`, "A"},
		// :type, :subtype, :contenttype, :param (RFC 5703 section 4.2).
		{`require ["mime","fileinto"]; if header :mime :type "content-type" "multipart" { fileinto "A"; }`, "A"},
		{`require ["mime","fileinto"]; if header :mime :subtype "content-type" "mixed" { fileinto "A"; }`, "A"},
		{`require ["mime","fileinto"]; if header :mime :anychild :contenttype "content-type" "text/html" { fileinto "A"; }`, "A"},
		{`require ["mime","fileinto","variables"]; if header :mime :anychild :param "filename" :matches "content-disposition" "*" { fileinto "${1}"; }`, "page.html"},
		{`require ["mime","fileinto","variables"]; if header :mime :param "boundary" :matches "content-type" "*" { fileinto "${1}"; }`, "AA"},
		// extracttext: the current part's text, HTML as text.
		{`require ["foreverypart","mime","extracttext","variables","fileinto"];
		  foreverypart { if header :mime :contenttype "content-type" "text/html" { extracttext "t"; } }
		  if string :matches "${t}" "?And again?*" { fileinto "Text"; }`, "Text"},
		{`require ["foreverypart","mime","extracttext","variables","fileinto"];
		  foreverypart { if header :mime "x-test" "DD" { extracttext :upper :first 8 "t"; } }
		  fileinto "${t}";`, "HELLO AG"},
		{`require ["foreverypart","extracttext","variables","fileinto"];
		  foreverypart { extracttext :length "t"; break; }
		  fileinto "n${t}";`, "n0"},
	}
	for _, c := range cases {
		if got := runFolders(t, c.script, nestedMsg, nil); got != c.want {
			t.Errorf("%s\n got %q, want %q", c.script, got, c.want)
		}
	}
}

func TestMimeCompileErrors(t *testing.T) {
	bad := []string{
		`require "foreverypart"; foreverypart;`,
		`require "foreverypart"; foreverypart :tag { }`,
		`require "foreverypart"; foreverypart "frop" { }`,
		`require "foreverypart"; foreverypart :name 13 { }`,
		`require "foreverypart"; break;`,
		`require "foreverypart"; foreverypart { break "x"; }`,
		`require "foreverypart"; foreverypart :name "a" { break :name "b"; }`,
		`require "foreverypart"; foreverypart { foreverypart { foreverypart { foreverypart { foreverypart { } } } } }`,
		`require "mime"; if header :anychild "to" "x" { }`,
		`require "mime"; if header :type "content-type" "x" { }`,
		`require "mime"; if header :mime :type :subtype "content-type" "x" { }`,
		`require "mime"; if address :mime :type "to" "x" { }`,
		`require "mime"; if exists :mime :param "a" "to" { }`,
		`require ["extracttext","variables"]; keep;`,
		`require ["extracttext","foreverypart"]; foreverypart { extracttext "a"; }`,
		`require ["extracttext","variables","foreverypart"]; extracttext "a";`,
		`require ["extracttext","variables","foreverypart"]; foreverypart { extracttext "0"; }`,
		`require ["extracttext","variables","foreverypart"]; foreverypart { extracttext "${a}"; }`,
		`require ["extracttext","variables","foreverypart"]; foreverypart { extracttext :first "a" "b"; }`,
	}
	for _, s := range bad {
		if _, err := Compile("t", []byte(s), nil); err == nil {
			t.Errorf("%s: compiled", s)
		}
	}
	good := []string{
		`require "foreverypart"; foreverypart { foreverypart { foreverypart { foreverypart { keep; } } } }`,
		`require "foreverypart"; foreverypart :name "a" { foreverypart :name "b" { break :name "a"; } break; }`,
		`require ["mime"]; if header :mime :param ["a","b"] :anychild "content-type" "x" { }`,
		`require ["extracttext","variables","foreverypart"]; foreverypart { extracttext "\n\a\m\e"; extracttext :lower "a"; }`,
	}
	for _, s := range good {
		if _, err := Compile("t", []byte(s), nil); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	got := htmlToText(`<html><head><title>T</title><style>p {color: red}</style><script>x<y</script></head>` +
		`<body><!-- hidden --><p>Your order <b>#7781</b> &amp; caf&eacute;</p></body></html>`)
	if strings.Contains(got, "color") || strings.Contains(got, "hidden") || strings.Contains(got, "<") || strings.Contains(got, "x<y") {
		t.Errorf("markup left: %q", got)
	}
	if !strings.Contains(got, "Your order #7781 & café") {
		t.Errorf("text lost: %q", got)
	}
}
