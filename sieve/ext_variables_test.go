package sieve

import (
	"context"
	"strings"
	"testing"
	"time"
)

// xInput is what the tests of variables, imap4flags, environment,
// ihave, date, mailbox, duplicate and spamtest run against.
type xInput struct {
	msg       string
	env       Envelope
	opts      *Options
	mailboxes Mailboxes
	tracker   Tracker
	envItems  map[string]string
	now       time.Time
}

// xRun compiles and runs script and describes the result as
// "folder[flags] folder ... +keep[flags]"; a failed run is "error: ...".
func xRun(t *testing.T, script string, in xInput) string {
	t.Helper()
	s, err := Compile("t", []byte(script), in.opts)
	if err != nil {
		t.Fatalf("compile %q: %v", script, err)
	}
	if in.msg == "" {
		in.msg = testMsg
	}
	m, err := ParseMessage([]byte(strings.ReplaceAll(in.msg, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	now := in.now
	if now.IsZero() {
		now = time.Date(2025, time.March, 15, 12, 0, 0, 0, time.UTC)
	}
	res := s.Run(context.Background(), &Input{Message: m, Envelope: in.env, Mailboxes: in.mailboxes,
		Tracker: in.tracker, Env: in.envItems, Now: now})
	return describe(res)
}

func describe(res *Result) string {
	if res.Err != nil {
		return "error: " + res.Err.Error()
	}
	var parts []string
	withFlags := func(name string, flags []string) string {
		if len(flags) == 0 {
			return name
		}
		return name + "[" + strings.Join(flags, " ") + "]"
	}
	for _, a := range res.Actions {
		switch a := a.(type) {
		case *FileInto:
			parts = append(parts, withFlags(a.Mailbox, a.Flags))
		case *Keep:
			parts = append(parts, withFlags("keep", a.Flags))
		case *Discard:
			parts = append(parts, "discard")
		case *Redirect:
			parts = append(parts, "redirect:"+a.Address)
		}
	}
	if res.ImplicitKeep {
		parts = append(parts, withFlags("+keep", res.ImplicitKeepFlags))
	}
	return strings.Join(parts, " ")
}

type xCase struct{ script, want string }

func xCases(t *testing.T, in xInput, cases []xCase) {
	t.Helper()
	for _, c := range cases {
		if got := xRun(t, c.script, in); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.script, got, c.want)
		}
	}
}

func TestVariables(t *testing.T) {
	xCases(t, xInput{}, []xCase{
		// RFC 5229 section 3: the examples of variable references.
		{`require ["variables","fileinto"]; set "company" "ACME";
		  fileinto "[${full}][${company}][${BAD${Company}][${President, ${Company} Inc.}]";`,
			"[][ACME][${BADACME][${President, ACME Inc.}]"},
		// Section 4.1: the examples of modifiers.
		{`require ["variables","fileinto"];
		  set "a" "juMBlEd lETteRS"; set "b" "${a}";
		  set :length "len" "${a}"; set :lower "l" "${a}"; set :upperfirst "uf" "${a}";
		  set :upperfirst :lower "ufl" "${a}"; set :quotewildcard "qw" "Rock*";
		  fileinto "${len}|${l}|${uf}|${ufl}|${qw}";`,
			`15|jumbled letters|JuMBlEd lETteRS|Jumbled letters|Rock\*`},
		// Section 3.2: match variables of :matches.
		{`require ["variables","fileinto"];
		  if header :matches "From" "*<*@*>" { fileinto "${2}-${3}-${0}"; }`,
			`joe-example.com-"Joe" <joe@example.com>`},
		// A failed match keeps the earlier match variables.
		{`require ["variables","fileinto"];
		  if header :matches "X-Spam-Score" "*" {} if header :matches "Subject" "nothing*" {}
		  fileinto "s${1}";`, "s5"},
		// Section 5: string test; :count ignores empty strings.
		{`require ["variables","relational","fileinto"]; set "e" "";
		  if string :count "eq" ["a","${e}","b"] "2" { fileinto "two"; }`, "two"},
		{`require ["variables","fileinto"]; set "state" "${state} pending";
		  if string :matches " ${state} " "* pending *" { fileinto "pending"; }`, "pending"},
		// Names are case-insensitive; :length counts characters.
		{`require ["variables","fileinto"]; set "NaMe" "café"; set :length "n" "${name}";
		  fileinto "${NAME}${n}";`, "café4"},
		// More than ten match variables.
		{`require ["variables","fileinto"];
		  if string :matches "abcdefghijkl" "????????????" { fileinto "${11}${12}"; }`, "kl"},
	})
}

func TestVariablesLimits(t *testing.T) {
	opts := &Options{Limits: Limits{MaxVariableLen: 10}}
	xCases(t, xInput{opts: opts}, []xCase{
		{`require ["variables","fileinto"]; set "a" "0123456789abc"; fileinto "${a}";`, "0123456789"},
		// :quotewildcard never leaves half a quoted pair at the cut.
		{`require ["variables","fileinto"]; set :quotewildcard "a" "012345678*"; fileinto "${a}";`, "012345678"},
		// The cut never splits a character.
		{`require ["variables","fileinto"]; set "a" "012345678é"; fileinto "${a}";`, "012345678"},
	})
	var b strings.Builder
	b.WriteString(`require "variables";`)
	for i := 0; i < 256; i++ {
		b.WriteString(`set "v` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `" "1";`)
	}
	if _, err := Compile("t", []byte(b.String()), nil); err == nil || !strings.Contains(err.Error(), "too many variables") {
		t.Errorf("256 variables: %v", err)
	}
}

func TestVariablesCompileErrors(t *testing.T) {
	for _, src := range []string{
		`require "variables"; set "1bad" "x";`,
		`require "variables"; set "a.b" "x";`, // no such namespace
		`require "variables"; set "${a}" "x";`,
		`require "variables"; set :lower :upper "a" "x";`, // same precedence
		`require "variables"; set :frob "a" "x";`,
		`require "variables"; set "a";`,
		`set "a" "b";`,
		`require "variables"; if string "a" {}`,
	} {
		if _, err := Compile("t", []byte(src), nil); err == nil {
			t.Errorf("%s: compiled", src)
		}
	}
}

func TestApplyModifierOrder(t *testing.T) {
	// RFC 5229 section 4.1: ":lower" (40) before ":upperfirst" (30)
	// before ":quotewildcard" (20) before ":length" (10).
	got := xRun(t, `require ["variables","fileinto"]; set :length :quotewildcard :upperfirst :lower "x" "AB*";
		fileinto "${x}";`, xInput{})
	if got != "4" {
		t.Errorf("got %q", got)
	}
}
