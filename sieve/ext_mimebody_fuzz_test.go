package sieve

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzMimeScript touches everything that reads the MIME structure.
const fuzzMimeScript = `require ["body", "mime", "foreverypart", "extracttext", "variables", "editheader", "fileinto"];
if body :text :contains "x" { fileinto "A"; }
if body :content ["", "multipart", "message/rfc822", "text/html"] :matches "*y*" { fileinto "B"; }
if body :raw :contains "z" { fileinto "C"; }
if header :mime :anychild :param ["charset", "boundary", "name"] :contains "content-type" "a" { fileinto "D"; }
if address :mime :anychild :all "from" "a@b" { fileinto "E"; }
addheader "X-Seen" "1";
foreverypart {
  extracttext :first 100 "t";
  if header :mime :contenttype "content-type" "text/plain" { set "u" "${t}"; }
  foreverypart { if exists :mime :anychild "content-disposition" { break; } }
}
deleteheader :index 1 "x-seen";
`

// FuzzMimeBody runs the body, mime and editheader code on arbitrary
// messages: it must never panic, and never fail at run time for
// anything but a limit.
func FuzzMimeBody(f *testing.F) {
	for _, m := range []string{rfc5173Msg, nestedMsg, editMsg,
		"Content-Type: multipart/mixed; boundary=\n\n--\n--\n--\n",
		"Content-Type: message/rfc822\n\nContent-Type: multipart/alternative; boundary=a\n\n--a\n\n<b>x</b>\n--a--\n",
		"Content-Type: text/html; charset=x-unknown\nContent-Transfer-Encoding: base64\n\n!!!notbase64\n",
		"Content-Type: multipart/digest; boundary=d\n\n--d\n\nFrom: a@b\n\nbody\n--d--\nepilogue",
	} {
		f.Add([]byte(strings.ReplaceAll(m, "\n", "\r\n")))
	}
	s, err := Compile("fuzz", []byte(fuzzMimeScript), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		res := s.Run(context.Background(), &Input{Message: m})
		if res.Err != nil && !strings.Contains(res.Err.Error(), "limit") {
			t.Fatalf("run: %v", res.Err)
		}
	})
}

// FuzzEncodeFieldValue checks that a value addheader stores reads back
// as the header test sees it.
func FuzzEncodeFieldValue(f *testing.F) {
	for _, v := range []string{"Header content", "Grüße", "Это тест!", strings.Repeat("long words ", 30), "  spaced  ", "tab\there", ""} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") || strings.Contains(v, "=?") {
			t.Skip()
		}
		raw := encodeFieldValue("X-Fuzz", v)
		got := decodeWords(strings.TrimSpace(unfold(raw)))
		want := strings.TrimSpace(v)
		if needsEncodedWords(v) {
			want = v // encoded whole: its blanks are inside the words
		}
		if got != want {
			t.Fatalf("%q stored as %q reads back %q", v, raw, got)
		}
	})
}
