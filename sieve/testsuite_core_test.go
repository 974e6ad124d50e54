package sieve

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A regular expression can cost seconds in one match; the CPU limit must
// stop the run at the next one, not after 1024 steps.
func TestRegexChecksCPULimit(t *testing.T) {
	script := `require ["regex", "variables"];
if header :regex "subject" "^x+y$" { keep; }
if header :regex "subject" "^(a|b)$" { keep; }
discard;`
	s, err := Compile("t", []byte(script), &Options{Limits: Limits{MaxCPU: time.Nanosecond}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ParseMessage([]byte("Subject: " + strings.Repeat("x", 100) + "\r\n\r\n"))
	res := s.Run(context.Background(), &Input{Message: m})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "CPU time limit") {
		t.Fatalf("run did not stop at the CPU limit: %v", res.Err)
	}
}

// Match variables of :regex still hold the groups.
func TestRegexMatchVariables(t *testing.T) {
	res := run(t, `require ["regex", "variables", "fileinto"];
if header :regex "subject" "^caf(.) (t.*)$" { fileinto "${1}-${2}"; }`, testMsg, Envelope{})
	if res.Err != nil || len(res.Actions) != 1 || res.Actions[0].(*FileInto).Mailbox != "é-time" {
		t.Fatalf("got %v, %v", res.Actions, res.Err)
	}
}

// An invalid address matches neither :localpart nor :domain (RFC 5228
// section 5.1; Pigeonhole's test-address.svtest "Invalid addresses").
func TestAddressInvalidParts(t *testing.T) {
	msg := "From: stephan@\nTo: @example.org\nCc: nonsense\nResent-To:\nBcc: nico@frop.example.com, @example.org\n\nTest.\n"
	for _, c := range []struct {
		test string
		want bool
	}{
		{`address :localpart "from" "stephan"`, false},
		{`address :domain "to" "example.org"`, false},
		{`address :is :localpart "bcc" ""`, false},
		{`address :is :localpart "bcc" "nico"`, true},
		{`address :is :all "cc" "nonsense"`, true},
		{`address :is :all "resent-to" ""`, true},
		{`address :is :localpart "resent-to" ""`, false},
	} {
		res := run(t, "if "+c.test+" { discard; }", msg, Envelope{})
		if got := !res.ImplicitKeep; got != c.want || res.Err != nil {
			t.Errorf("%s: got %v (%v), want %v", c.test, got, res.Err, c.want)
		}
	}
}

// "${hex:}" and "${unicode:}" encode nothing and stay as written
// (Pigeonhole's encoded-character.svtest "Syntax errors").
func TestEncodedCharacterEmpty(t *testing.T) {
	for in, want := range map[string]string{
		"${hex:}": "${hex:}", "${unicode:}": "${unicode:}", "${hex: }": "${hex: }",
		"a${hex:41}b": "aAb", "${unicode:41 42}": "AB",
	} {
		got, err := decodeEncodedCharacters(in, Pos{})
		if err != nil || got != want {
			t.Errorf("%q: got %q (%v), want %q", in, got, err, want)
		}
	}
}

// Redirect addresses may have white space around their parts
// (Pigeonhole's compile/redirect.sieve).
func TestNormalizeAddressSpaces(t *testing.T) {
	for _, in := range []string{"stephan @example.org", " stephan @ example.org ", "Stephan Bosch< stephan@example.org>",
		"  Stephan Bosch  <  stephan  @  example.org  > ", "Stephan Bosch<stephan@example.org >"} {
		if got, err := normalizeAddress(in); err != nil || got != "stephan@example.org" {
			t.Errorf("%q: got %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"stephan", "a@b, c@d", "", "@example.org"} {
		if got, err := normalizeAddress(in); err == nil {
			t.Errorf("%q: accepted as %q", in, got)
		}
	}
}

// A header name no field can have compiles and matches nothing
// (Pigeonhole's test-header.svtest "Invalid header name").
func TestInvalidHeaderNameMatchesNothing(t *testing.T) {
	for _, test := range []string{`header :contains "subject:" ""`, `header :contains "to!" ""`,
		`exists "subject:"`, `address :contains "from:" ""`, `header :contains "" ""`} {
		res := run(t, "if "+test+" { discard; }", testMsg, Envelope{})
		if !res.ImplicitKeep || res.Err != nil {
			t.Errorf("%s matched (%v)", test, res.Err)
		}
	}
}

// i;unicode-casemap needs no require, as in Pigeonhole.
func TestUnicodeCasemapWithoutRequire(t *testing.T) {
	res := run(t, `if header :contains :comparator "i;unicode-casemap" "subject" "CAFÉ" { discard; }`, testMsg, Envelope{})
	if res.ImplicitKeep || res.Err != nil {
		t.Fatalf("did not match: %v", res.Err)
	}
}
