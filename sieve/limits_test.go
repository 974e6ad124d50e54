package sieve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Scripts that would cost without bound are stopped by the limits, with
// an error that says which.
func TestLimits(t *testing.T) {
	msg, _ := ParseMessage([]byte("From: a@example.org\r\nSubject: " + strings.Repeat("ab", 2000) + "\r\n\r\nbody\r\n"))
	compileErr := func(name, src string, opts *Options, want string) {
		t.Helper()
		_, err := Compile(name, []byte(src), opts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, want)
		}
	}
	runErr := func(name, src string, opts *Options, want string) {
		t.Helper()
		s, err := Compile(name, []byte(src), opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		start := time.Now()
		res := s.Run(context.Background(), &Input{Message: msg})
		if res.Err == nil || !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: run error %v, want one containing %q", name, res.Err, want)
		}
		if !res.ImplicitKeep || len(res.Actions) != 0 {
			t.Errorf("%s: a failed run must keep and do nothing else: %+v", name, res)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}

	compileErr("nesting", strings.Repeat("if true {", 100)+strings.Repeat("}", 100), nil, "nesting is too deep")
	compileErr("test nesting", "if "+strings.Repeat("not ", 200)+"true {}", nil, "nesting is too deep")
	compileErr("size", `keep; # `+strings.Repeat("x", 2<<20), nil, "script is too large")
	compileErr("string", `fileinto "`+strings.Repeat("x", 100)+`";`, &Options{Limits: Limits{MaxScriptSize: 50}}, "script is too large")
	compileErr("regex size", `require "regex"; if header :regex "subject" "`+strings.Repeat("(a|b)", 3000)+`" {}`, nil, "too large")

	runErr("redirects", `redirect "a@x.example"; redirect "b@x.example"; redirect "c@x.example";`,
		&Options{Limits: Limits{MaxRedirects: 2}}, "redirect")
	runErr("actions", `require "fileinto"; fileinto "a"; fileinto "b"; fileinto "c";`,
		&Options{Limits: Limits{MaxActions: 2}}, "actions")
	// A regex bomb through a variable: each match of Go's linear-time
	// engine is bounded, and the CPU limit stops the run.
	runErr("regex bomb", `require ["regex", "variables"];
set "e" "^((a|aa|aaa|aaaa)*b?)*(x|y|z)+$";
set "s" "${0}";
`+strings.Repeat(`if header :regex "subject" "${e}" { discard; }
`, 2000), &Options{Limits: Limits{MaxCPU: 200 * time.Millisecond}}, "limit")
	runErr("steps", `require "variables";
`+strings.Repeat(`if header :matches "subject" "*a*b*a*b*a*b*a*b*a*b*c" { discard; }
`, 3000), &Options{Limits: Limits{MaxSteps: 5000, MaxCPU: time.Minute}}, "step limit")

	// include loops are refused at compile time.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.sieve"), []byte(`require "include"; include :personal "b";`), 0o600)
	os.WriteFile(filepath.Join(dir, "b.sieve"), []byte(`require "include"; include :personal "a";`), 0o600)
	opts := &Options{}
	opts.Includes = fileLoader{dir: dir, opts: opts}
	src, _ := os.ReadFile(filepath.Join(dir, "a.sieve"))
	compileErr("a", string(src), opts, "")
}

// fileLoader loads included scripts from a directory.
type fileLoader struct {
	dir  string
	opts *Options
}

func (l fileLoader) LoadScript(location, name string) (*Script, error) {
	src, err := os.ReadFile(filepath.Join(l.dir, name+".sieve"))
	if err != nil {
		return nil, err
	}
	return Compile(name, src, l.opts)
}

// FuzzCompile compiles arbitrary scripts and runs the ones that compile
// on a small message: nothing may panic, and a run ends within its
// limits with a result.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`require ["fileinto","variables","regex","relational","comparator-i;ascii-numeric","imap4flags","body","editheader","vacation","include","mime","foreverypart","extracttext","date","index","envelope","copy","mailbox","reject","duplicate","environment","ihave","spamtest","subaddress","encoded-character"];`,
		`if header :matches "subject" "*a?b*" { set "x" "${1}"; fileinto "${x}"; }`,
		`require "body"; if body :text :contains "hi" { discard; }`,
		`require ["mime","foreverypart"]; foreverypart { if header :mime :type "content-type" "text" { break; } }`,
		`require "editheader"; addheader "X-A" "b"; deleteheader :index 1 "received";`,
		`require "vacation"; vacation :days 3 :subject "s" "reason";`,
		"text:\r\nabc\r\n.\r\n", `"\`, `/*`, `[`, `if anyof(true,false) {} elsif not exists "x" {} else { stop; }`,
	} {
		f.Add(s)
	}
	msg := []byte("From: a@example.org\r\nTo: b@example.com\r\nSubject: hi there\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n")
	opts := &Options{Limits: Limits{MaxCPU: 500 * time.Millisecond, MaxSteps: 100000}}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Compile("fuzz", []byte(src), opts)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("compile error of type %T: %v", err, err)
			}
			return
		}
		m, _ := ParseMessage(msg)
		res := s.Run(context.Background(), &Input{Message: m, Envelope: Envelope{From: "a@example.org", To: "b@example.com"}})
		if res == nil {
			t.Fatal("nil result")
		}
		if res.Err != nil && (!res.ImplicitKeep || len(res.Actions) != 0) {
			t.Fatalf("failed run did not fall back to keep: %+v", res)
		}
	})
}
