package sieve

import (
	"context"
	"strings"
	"testing"
)

func run(t *testing.T, script, msg string, env Envelope) *Result {
	t.Helper()
	s, err := Compile("t", []byte(script), nil)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	m, err := ParseMessage([]byte(strings.ReplaceAll(msg, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return s.Run(context.Background(), &Input{Message: m, Envelope: env})
}

const testMsg = `From: "Joe" <joe@example.com>
To: bob+lists@example.org, alice@example.net
Subject: =?utf-8?q?caf=C3=A9?= time
X-Spam-Score: 5

Hello
`

func TestCoreActions(t *testing.T) {
	cases := []struct {
		script string
		want   string // actions joined by "; ", then "+keep" when implicit keep
	}{
		{`keep;`, "store message in folder: INBOX"},
		{`discard;`, ""},
		{`require "fileinto"; if header :contains "subject" "café" { fileinto "Food"; }`, "store message in folder: Food"},
		{`require ["fileinto","copy"]; fileinto :copy "A";`, "store message in folder: A; +keep"},
		{`if address :domain :is "to" "example.net" { redirect "x@y.org"; }`, "redirect message to: <x@y.org>"},
		{`require "subaddress"; if address :detail "to" "lists" { discard; }`, ""},
		{`if size :over 10K { discard; }`, "+keep"},
		{`if exists ["from","x-spam-score"] { stop; } discard;`, "+keep"},
		{`require ["relational","comparator-i;ascii-numeric"]; if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "5" { discard; }`, ""},
		{`require ["envelope"]; if envelope :localpart :matches "from" "s*r" { discard; }`, ""},
		{`if header :matches "subject" "caf? *" { discard; }`, ""},
		{`require "regex"; if header :regex "from" "^\"J.e\"" { discard; }`, ""},
	}
	for _, c := range cases {
		res := run(t, c.script, testMsg, Envelope{From: "sender@example.com", To: "bob@example.org"})
		if res.Err != nil {
			t.Errorf("%s: %v", c.script, res.Err)
			continue
		}
		var got []string
		for _, a := range res.Actions {
			if _, ok := a.(*Discard); ok {
				continue
			}
			got = append(got, a.String())
		}
		s := strings.Join(got, "; ")
		if res.ImplicitKeep {
			if s != "" {
				s += "; "
			}
			s += "+keep"
		}
		if s != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.script, s, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, src := range []string{
		`keep`, `fileinto "x";`, `require "nope";`, `if true { keep; } else keep;`,
		`header :is "a";`, `if header :frob "a" "b" { }`, `keep; require "fileinto";`,
		`redirect "not an address";`, `if size 10 { }`, `"unterminated`, `/* open`,
		`require "comparator-i;ascii-numeric"; if header :contains :comparator "i;ascii-numeric" "a" "1" {}`,
	} {
		if _, err := Compile("t", []byte(src), nil); err == nil {
			t.Errorf("%q compiled", src)
		} else if !strings.Contains(err.Error(), "t:") {
			t.Errorf("%q: error without position: %v", src, err)
		}
	}
}

func TestLexerStrings(t *testing.T) {
	l := newLexer("text: # c\nA\n..B\n.\n \"q\\\"\\a\" 10K")
	want := []token{{kind: tString, text: "A\r\n.B\r\n"}, {kind: tString, text: `q"a`}, {kind: tNumber, num: 10240}}
	for _, w := range want {
		tok, err := l.next()
		if err != nil || tok.kind != w.kind || tok.text != w.text || tok.num != w.num {
			t.Errorf("got %+v %v, want %+v", tok, err, w)
		}
	}
}

func TestWildcardCaptures(t *testing.T) {
	cmp := comparators["i;octet"]
	caps, ok := wildcardMatch("klopfropstroptop", "*?op*", cmp)
	if !ok || strings.Join(caps, ":") != "klopfropstroptop:k:l:fropstroptop" {
		t.Errorf("%q %v", caps, ok)
	}
	caps, ok = wildcardMatch("klopfropstroptop", "*?op", cmp)
	if !ok || strings.Join(caps, ":") != "klopfropstroptop:klopfropstrop:t" {
		t.Errorf("%q %v", caps, ok)
	}
	if _, ok := wildcardMatch(strings.Repeat("a", 3000), strings.Repeat("*a", 40)+"b", cmp); ok {
		t.Error("matched")
	}
}
