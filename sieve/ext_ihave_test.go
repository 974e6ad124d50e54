package sieve

import (
	"strings"
	"testing"
)

func TestIhave(t *testing.T) {
	xCases(t, xInput{}, []xCase{
		// RFC 5463 section 3: an extension found by ihave can be used.
		{`require "ihave"; if ihave "fileinto" { fileinto "F"; }`, "F"},
		// A block guarded by ihave for an unknown extension compiles.
		{`require ["ihave","fileinto"]; if ihave "x-frob" { frob "x"; } else { fileinto "No"; }`, "No"},
		{`require ["ihave","fileinto"]; if ihave ["envelope","x-frob"] { frob; } elsif ihave "envelope" { fileinto "E"; }`, "E"},
		// variables and encoded-character change how strings are read.
		{`require ["ihave","fileinto"]; if ihave "variables" { fileinto "V"; } else { fileinto "NoV"; }`, "NoV"},
		// Section 5: error fails the run; the message is kept.
		{`require ["ihave","fileinto"]; fileinto "A"; error "giving up";`, "error: t:1:45: giving up"},
	})
	// Disabled extensions are not there for ihave either.
	got := xRun(t, `require ["ihave","fileinto"]; if ihave "envelope" { fileinto "E"; }`,
		xInput{opts: &Options{Disabled: []string{"envelope"}}})
	if got != "+keep" {
		t.Errorf("disabled: %q", got)
	}
	// Outside an ihave block an unknown command is still an error.
	if _, err := Compile("t", []byte(`require "ihave"; if ihave "x-frob" { } frob;`), nil); err == nil {
		t.Error("unknown command after the block compiled")
	}
}

func TestEnvironment(t *testing.T) {
	in := xInput{envItems: map[string]string{"remote-ip": "192.0.2.1", "phase": "post"}}
	xCases(t, in, []xCase{
		// RFC 5183 section 4 items.
		{`require ["environment","fileinto","variables"];
		  if environment :matches "location" "*" { set "l" "${1}"; }
		  if environment :matches "phase" "*" { set "p" "${1}"; }
		  if environment :matches "name" "*" { set "n" "${1}"; }
		  if environment :is "remote-ip" "192.0.2.1" { set "ip" "ok"; }
		  fileinto "${l}-${p}-${n}-${ip}";`, "MDA-post-Letterbox-ok"},
		{`require ["environment","fileinto"]; if environment :contains "version" "" { fileinto "v"; }`, "v"},
		// Unknown items match nothing, not even :count "eq" "0".
		{`require ["environment","relational","fileinto"];
		  if anyof(environment :contains "nonsense" "", environment :count "eq" "nonsense" "0") { fileinto "x"; }`, "+keep"},
		{`require ["environment","fileinto"]; if environment :matches "remote-host" "*" { fileinto "x"; }`, "+keep"},
	})
}

type fakeBoxes map[string][]string // mailbox -> special-use flags

func (f fakeBoxes) MailboxExists(name string) bool { _, ok := f[name]; return ok }

func (f fakeBoxes) SpecialUseExists(name string, uses []string) bool {
	has := func(box string) bool {
		for _, u := range uses {
			found := false
			for _, g := range f[box] {
				found = found || strings.EqualFold(g, u)
			}
			if !found {
				return false
			}
		}
		return true
	}
	if name != "" {
		return has(name)
	}
	for box := range f {
		if has(box) {
			return true
		}
	}
	return false
}

func TestMailboxAndSpecialUse(t *testing.T) {
	boxes := fakeBoxes{"INBOX": nil, "Junk": {`\Junk`}, "Archive/2025": {`\Archive`}}
	xCases(t, xInput{mailboxes: boxes}, []xCase{
		// RFC 5490 section 3.1: true only when all exist.
		{`require ["mailbox","fileinto"]; if mailboxexists ["Junk","Archive/2025"] { fileinto "both"; }`, "both"},
		{`require ["mailbox","fileinto"]; if mailboxexists ["Junk","Nope"] { fileinto "both"; }`, "+keep"},
		// RFC 8579 section 4.
		{`require ["special-use","fileinto"]; if specialuse_exists "\\Junk" { fileinto "j"; }`, "j"},
		{`require ["special-use","fileinto"]; if specialuse_exists ["\\Junk","\\Archive"] { fileinto "ja"; }`, "ja"},
		{`require ["special-use","fileinto"]; if specialuse_exists "Junk" ["\\Junk","\\Archive"] { fileinto "ja"; }`, "+keep"},
		{`require ["special-use","fileinto"]; if specialuse_exists "Archive/2025" "\\archive" { fileinto "a"; }`, "a"},
	})
	// Without Mailboxes only INBOX exists.
	if got := xRun(t, `require ["mailbox","fileinto"]; if mailboxexists "inbox" { fileinto "i"; }`, xInput{}); got != "i" {
		t.Errorf("nil Mailboxes: %q", got)
	}
	for _, src := range []string{
		`require "special-use"; if specialuse_exists "Junk" {}`,
		`require ["special-use","fileinto"]; fileinto :specialuse "Junk" "Junk";`,
		`require "mailbox"; if mailboxexists {}`,
	} {
		if _, err := Compile("t", []byte(src), nil); err == nil {
			t.Errorf("%s: compiled", src)
		}
	}
}

func TestSubaddressDelimiter(t *testing.T) {
	env := Envelope{From: "a@example.com", To: "bob-lists+x@example.org"}
	script := `require ["subaddress","envelope","fileinto","variables"];
		if envelope :user :matches "to" "*" { set "u" "${1}"; }
		if envelope :detail :matches "to" "*" { set "d" "${1}"; }
		fileinto "${u}|${d}";`
	if got := xRun(t, script, xInput{env: env}); got != "bob-lists|x" {
		t.Errorf("default: %q", got)
	}
	if got := xRun(t, script, xInput{env: env, opts: &Options{RecipientDelimiter: "+-"}}); got != "bob|lists+x" {
		t.Errorf("+-: %q", got)
	}
}
