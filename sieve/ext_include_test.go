package sieve

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
)

// mapLoader serves scripts from memory: "personal/name" or "global/name".
type mapLoader struct {
	src   map[string]string
	opts  *Options
	mu    sync.Mutex
	loads int
}

func (l *mapLoader) LoadScript(location, name string) (*Script, error) {
	l.mu.Lock()
	l.loads++
	l.mu.Unlock()
	src, ok := l.src[location+"/"+name]
	if !ok {
		return nil, fmt.Errorf("%s script %q: %w", location, name, fs.ErrNotExist)
	}
	return Compile(name, []byte(src), l.opts)
}

func newMapLoader(src map[string]string) (*mapLoader, *Options) {
	opts := &Options{}
	l := &mapLoader{src: src, opts: opts}
	opts.Includes = l
	return l, opts
}

func runWith(t *testing.T, script string, opts *Options) *Result {
	t.Helper()
	s, err := Compile("main", []byte(script), opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	m, _ := ParseMessage([]byte(strings.ReplaceAll(testMsg, "\n", "\r\n")))
	return s.Run(context.Background(), &Input{Message: m, Envelope: Envelope{From: "a@example.org", To: "b@example.com"}})
}

func mailboxes(res *Result) string {
	var out []string
	for _, a := range res.Actions {
		switch a := a.(type) {
		case *FileInto:
			out = append(out, a.Mailbox)
		case *Keep:
			out = append(out, "keep")
		case *Discard:
			out = append(out, "discard")
		}
	}
	if res.ImplicitKeep {
		out = append(out, "+keep")
	}
	return strings.Join(out, " ")
}

// The examples of RFC 6609 section 3.5 (spam tests shortened).
func TestIncludeRFCExamples(t *testing.T) {
	_, opts := newMapLoader(map[string]string{
		"personal/always_allow": `if address :is "from" "boss@example.com" { keep; }`,
		"personal/spam_tests": `require ["reject"];
if header :contains "Subject" "$$$" { reject "No spam."; }`,
		"global/spam_tests": `require "fileinto"; if header :is "x-spam-score" "5" { fileinto "Spam"; }`,
		"personal/mailing_lists": `require ["fileinto"];
if exists "List-Id" { fileinto "lists"; }`,
		"global/spam_filter_script": `require ["variables", "include"];
global ["test", "test_mailbox"];
if header :contains "x-spam-score" "5" { set "test" "spam"; set "test_mailbox" "Junk"; }`,
	})
	res := runWith(t, `require ["include"];
include :personal "always_allow";
include :global "spam_tests";
include :personal "spam_tests";
include :personal "mailing_lists";`, opts)
	if res.Err != nil || mailboxes(res) != "Spam" {
		t.Errorf("example 1: %q %v", mailboxes(res), res.Err)
	}
	res = runWith(t, `require ["variables", "include", "relational", "fileinto"];
global "test";
global "test_mailbox";

# The included script may contain repetitive code that is
# effectively a subroutine that can be factored out.
set "test" "$$$";
set "test_mailbox" "spam-$$$";
include :global "spam_filter_script";

set "test" "Make money";
set "test_mailbox" "spam-money";
include :global "spam_filter_script";

if string :count "eq" "${test}" "spam" { fileinto "${test_mailbox}"; }`, opts)
	if res.Err != nil || mailboxes(res) != "+keep" {
		t.Errorf("example 2: %q %v", mailboxes(res), res.Err)
	}
}

func TestIncludeRunSemantics(t *testing.T) {
	l, opts := newMapLoader(map[string]string{
		"personal/a":    `require ["fileinto"]; fileinto "A";`,
		"personal/ret":  `require ["include","fileinto"]; if true { return; } fileinto "Never";`,
		"personal/stop": `require "fileinto"; fileinto "S"; stop;`,
		"personal/set": `require ["include","variables"]; global "folder"; set "folder" "Inc";
set "local" "hidden"; set "global.direct" "D";`,
		"personal/once":  `require ["include","variables"]; global "n"; set "n" "${n}x";`,
		"personal/loop3": `require "include"; include "loop4";`,
		"personal/loop4": `require "include"; include :once "loop3";`,
		"global/g":       `keep;`,
	})
	for _, c := range []struct{ script, want string }{
		{`require "include"; include "a"; include "a";`, "A"},
		{`require ["include","fileinto"]; include "ret"; fileinto "After";`, "After"},
		{`require ["include","fileinto"]; include "stop"; fileinto "After";`, "S"},
		{`require ["include","variables","fileinto"]; global "folder"; set "local" "mine";
include "set"; fileinto "${folder}-${local}-${global.direct}";`, "Inc-mine-D"},
		{`require ["include","variables","fileinto"]; include "set"; fileinto "[${folder}]";`, "[]"},
		{`require ["include","variables","fileinto"]; global "n";
include :once "once"; include :once "once"; include "once"; fileinto "${n}";`, "xx"},
		{`require "include"; include "loop3";`, "+keep"},
		{`require "include"; include :global "g";`, "keep"},
		{`require ["include","fileinto"]; include :optional "missing"; fileinto "Still";`, "Still"},
		{`require "include"; return; keep;`, "+keep"},
	} {
		res := runWith(t, c.script, opts)
		if res.Err != nil || mailboxes(res) != c.want {
			t.Errorf("%s\n got %q (%v), want %q", c.script, mailboxes(res), res.Err, c.want)
		}
	}
	// An included script is loaded once per compile, however often it
	// is named.
	l.loads = 0
	if _, err := Compile("main", []byte(`require "include"; include "a"; include "a"; include :once "a";`), opts); err != nil || l.loads != 1 {
		t.Errorf("loads %d, %v", l.loads, err)
	}
}

func TestIncludeCompileErrors(t *testing.T) {
	_, opts := newMapLoader(map[string]string{
		"personal/self":   `require "include"; include "self";`,
		"personal/two":    `require "include"; include "two-2";`,
		"personal/two-2":  `require "include"; include "two";`,
		"personal/broken": `keep`,
		"personal/d1":     `require "include"; include "d2";`,
		"personal/d2":     `require "include"; include "d3";`,
		"personal/d3":     `keep;`,
		"personal/main":   `keep;`,
	})
	for _, c := range []struct{ script, want string }{
		{`require "include"; include "missing";`, "does not exist"},
		{`require "include"; include "self";`, "circular include"},
		{`require "include"; include "two";`, "circular include"},
		{`require "include"; include "main";`, "circular include"}, // names itself
		{`require "include"; include "broken";`, "failed to compile"},
		{`require "include"; include "../x";`, "invalid script name"},
		{`require ["include","encoded-character"]; include "a${hex:0a}b";`, "invalid script name"},
		{`require "include"; include "";`, "invalid script name"},
		{`require ["include","variables"]; set "n" "a"; include "${n}";`, "constant"},
		{`require "include"; include :personal :global "a";`, "exclude"},
		{`require "include"; global "x";`, "variables"},
		{`require ["include","variables"]; global "1x";`, "invalid variable name"},
		{`require ["include","variables"]; set "x" "1"; global "x";`, "global after"},
		{`require ["include","variables"]; set "global.a.b" "1";`, "sub-namespace"},
		{`include "a";`, "unknown command"},
		{`require "include"; return "x";`, "positional"},
	} {
		_, err := Compile("main", []byte(c.script), opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.script, err, c.want)
		}
	}
	// Limits: nesting depth and the number of scripts.
	deep := *opts
	deep.Limits.MaxIncludeDepth = 2
	deep.Includes = &mapLoader{src: map[string]string{
		"personal/d1": `require "include"; include "d2";`, "personal/d2": `require "include"; include "d3";`, "personal/d3": `keep;`,
	}, opts: &deep}
	if _, err := Compile("main", []byte(`require "include"; include "d1";`), &deep); err == nil || !strings.Contains(err.Error(), "deeper than 2") {
		t.Errorf("depth: %v", err)
	}
	few := *opts
	few.Limits.MaxIncludes = 2
	few.Includes = &mapLoader{src: map[string]string{"personal/a": `keep;`, "personal/b": `keep;`, "personal/c": `keep;`}, opts: &few}
	if _, err := Compile("main", []byte(`require "include"; include "a"; include "b"; include "c";`), &few); err == nil || !strings.Contains(err.Error(), "no more than 2") {
		t.Errorf("count: %v", err)
	}
	if _, err := Compile("main", []byte(`require "include"; include "a"; include "b"; include "a";`), &few); err != nil {
		t.Errorf("the same script twice counts once: %v", err)
	}
	// Sessions do not leak between compiles.
	includeSessions.Lock()
	n := len(includeSessions.m)
	includeSessions.Unlock()
	if n != 0 {
		t.Errorf("%d include sessions left", n)
	}
}

// While uploading, a script may include one that does not exist yet; it
// fails when it runs. Without a loader every include fails at run time.
func TestIncludeUploadAndNoLoader(t *testing.T) {
	_, opts := newMapLoader(map[string]string{"personal/loop": `require "include"; include "loop";`})
	opts.Uploading = true
	for _, src := range []string{`require "include"; include "later";`, `require "include"; include "loop";`} {
		if _, err := Compile("main", []byte(src), opts); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	res := runWith(t, `require "include"; include "later"; discard;`, opts)
	if res.Err == nil || !res.ImplicitKeep {
		t.Errorf("missing script ran: %+v", res)
	}
	res = runWith(t, `require "include"; include "x"; discard;`, nil)
	if res.Err == nil || !res.ImplicitKeep {
		t.Errorf("include without a loader ran: %+v", res)
	}
	res = runWith(t, `require "include"; include :optional "x"; discard;`, nil)
	if res.Err != nil || res.ImplicitKeep {
		t.Errorf("optional include without a loader: %+v", res)
	}
	if _, err := Compile("self", []byte(`require "include"; include "self";`), nil); err == nil {
		t.Error("a script including itself compiled without a loader")
	}
}

// Compiles on many goroutines at once keep their include trees apart.
func TestIncludeConcurrentCompiles(t *testing.T) {
	_, opts := newMapLoader(map[string]string{
		"personal/a": `require "include"; include "b";`,
		"personal/b": `require "include"; include :once "a"; keep;`,
	})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := Compile("main", []byte(`require "include"; include "a"; include "b";`), opts); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
