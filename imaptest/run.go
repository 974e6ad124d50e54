// Package imaptest plays Dovecot imaptest's scripted IMAP tests against a
// server and checks the answers the way imaptest does.
//
// The scripts live in the shared conformance folder (imaptest/tests, format
// in imaptest/docs/scripted_test.md). For each script the runner prepares
// the test mailbox over IMAP as imaptest does (LOGIN, LIST/LSUB and DELETE
// or UNSUBSCRIBE whatever is named like the mailbox, CREATE, APPEND the
// script's mbox messages, SELECT on every connection, as far as the script's
// "state:" asks), then sends each command group and matches the replies:
// variables ($name bound from the first reply that matches, then reused;
// $N for a message's current sequence number; "$" for anything), untagged
// lines that must ("*"), must not ("!") or may ("?") appear, lists with their
// $! directives and imaptest's defaults, and the tagged OK/NO/BAD.
//
// Use it from a test that has started a server:
//
//	imaptest.RunScripts(t, imaptest.Target{
//		Addr:       addr,
//		NewAccount: newUser, // a fresh account per script: scripts run in parallel
//		Expected:   imaptest.ExpectedFailures(t),
//	}, nil)
//
// Scripts that need a capability the server does not advertise after login
// are skipped, with the capability named. Target.Expected lists the scripts
// expected to fail (ExpectedFailures reads testdata/imaptest/EXPECTED.md);
// the run fails on any other failure and on a listed script that passes.
// A failure report names the command group and line, what was missing or
// unwanted, the closest reply, and the group's transcript.
//
// Where scripted_test.md is silent or out of date, the runner does what
// imaptest's parser and executor do:
//   - "messages:" defaults to 0, not "all"; a bare "append" appends the
//     next message of the script's mbox, with its From_ line's date, to the
//     connection's last SELECTed mailbox (at first $mailbox); "append
//     MAILBOX [FLAGS]" without a message appends the next one there;
//   - every connection logs in (unless state: nonauth), the first one
//     prepares the mailbox, and with state: selected every connection
//     SELECTs it; the first connection LOGs OUT at the end unless the
//     script logs out or expects a BYE;
//   - one reply may satisfy several expected lines; a reply that matches
//     none undoes the variables it bound; "$N" is the current number of
//     the message that was N when the command group started;
//   - replies are compared as C strings (up to a NUL), case-insensitively
//     for ASCII letters;
//   - an unexpected tagged BAD, an EXPUNGE or EXISTS that contradicts the
//     message count, or a disconnection (unless a BYE was expected) ends
//     the script as a failure.
//
// Literals go out as LITERAL+ when the server offers it, else as
// synchronising literals (imaptest itself insists on LITERAL+). imaptest's
// per-message flag and \Recent bookkeeping, which only logs, is not
// reproduced.
package imaptest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Target says how to reach the server under test.
type Target struct {
	// Addr is the server's host:port.
	Addr string
	// User and Password log in every connection of every script when
	// NewAccount is nil. The scripts then run one at a time, since they
	// all use the same mailbox.
	User, Password string
	// NewAccount, when set, returns a fresh account for each script (and
	// a second one for scripts that ask for "$user2"). Scripts then run in
	// parallel, each in its own account, so it is called from several
	// goroutines at once.
	NewAccount func() (Account, error)
	// Prepare, when set, is called with a script's account and mailbox
	// before the script connects (to reset state outside IMAP). The runner
	// always cleans up over IMAP as imaptest does as well.
	Prepare func(a Account, mailbox string) error
	// Mailbox is the test mailbox ($mailbox); default "imaptest".
	Mailbox string
	// Parallel caps the scripts in flight with NewAccount; default 8.
	Parallel int
	// Dial opens a connection to the server (for TLS, say); default TCP
	// to Addr.
	Dial func() (net.Conn, error)
	// Timeout bounds the wait for each response; default 10s.
	Timeout time.Duration
	// Env answers the scripts' !ifenv and !ifnenv; nil uses the process
	// environment.
	Env map[string]string
	// Expected maps a script name to the reason it is expected to fail.
	Expected map[string]string
	// Trace, when set, receives every line sent and received, prefixed
	// with the script's name ("name: 1> …" for what connection 1 sent).
	Trace io.Writer
}

func (t *Target) mailbox() string {
	if t.Mailbox != "" {
		return t.Mailbox
	}
	return "imaptest"
}

func (t *Target) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return 10 * time.Second
}

func (t *Target) dial() (net.Conn, error) {
	if t.Dial != nil {
		return t.Dial()
	}
	return dialTCP(t.Addr, t.timeout())
}

// host is $domain for a user without "@domain" (imaptest uses its host).
func (t *Target) host() string {
	if h, _, err := net.SplitHostPort(t.Addr); err == nil {
		return h
	}
	return t.Addr
}

func (t *Target) envLookup() func(string) (string, bool) {
	if t.Env == nil {
		return os.LookupEnv
	}
	return func(k string) (string, bool) {
		v, ok := t.Env[k]
		return v, ok
	}
}

// Dir returns the imaptest folder of the conformance material: the imaptest
// folder in $LETTERBOX_CONFORMANCE, else in ../shared/conformance beside
// the repository root. It skips t when there is none.
func Dir(t testing.TB) string {
	t.Helper()
	base := os.Getenv("LETTERBOX_CONFORMANCE")
	if base == "" {
		if root := repoRoot(); root != "" {
			base = filepath.Join(root, "..", "shared", "conformance")
		}
	}
	dir := filepath.Join(base, "imaptest")
	if base == "" {
		dir = ""
	}
	if _, err := os.Stat(filepath.Join(dir, "tests")); dir == "" || err != nil {
		t.Skip("imaptest scripts not found: set LETTERBOX_CONFORMANCE to the shared conformance folder (with imaptest/tests)")
	}
	return dir
}

// repoRoot is the folder holding go.mod above the working directory.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// ExpectedFailures reads the repository's testdata/imaptest/EXPECTED.md:
// the scripts Letterbox is expected to fail, one "- name: reason" line
// each (at the start of the line); other lines are commentary.
func ExpectedFailures(t testing.TB) map[string]string {
	t.Helper()
	root := repoRoot()
	if root == "" {
		t.Fatal("repository root (go.mod) not found")
	}
	m, err := ReadExpected(filepath.Join(root, "testdata", "imaptest", "EXPECTED.md"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ReadExpected parses an EXPECTED.md file ("- name: reason" lines).
func ReadExpected(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t")
		if !strings.HasPrefix(line, "- ") {
			continue
		}
		name, reason, ok := strings.Cut(line[2:], ":")
		name, reason = strings.TrimSpace(name), strings.TrimSpace(reason)
		if !ok || name == "" || reason == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("%s:%d: want \"- name: reason\", got %q", path, n, line)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed twice", path, n, name)
		}
		m[name] = reason
	}
	return m, sc.Err()
}

// Run plays every script of dir (an imaptest folder, holding tests/)
// against target, one subtest per script.
func Run(t *testing.T, dir string, target Target) {
	t.Helper()
	run(t, dir, target, nil)
}

// RunScripts plays the scripts filter accepts (nil: all) from the
// conformance folder (see Dir) against target, one subtest per script.
func RunScripts(t *testing.T, target Target, filter func(name string) bool) {
	t.Helper()
	run(t, Dir(t), target, filter)
}

// PlayScript plays one script and returns what happened.
func PlayScript(s *Script, target Target) *Result {
	accts, res := accountsFor(s, &target)
	if res != nil {
		return res
	}
	if target.Prepare != nil {
		if err := target.Prepare(accts[0], target.mailbox()); err != nil {
			return &Result{Name: s.Name, Status: Failed, Failures: []string{"prepare: " + err.Error()}}
		}
	}
	return runScript(s, &target, accts)
}

// accountsFor picks each connection's account: "user N: $user2" asks for a
// second account, any other "user N:" names a user with the target's
// password, and every other connection uses the script's account.
func accountsFor(s *Script, tg *Target) ([]Account, *Result) {
	fail := func(msg string) ([]Account, *Result) {
		return nil, &Result{Name: s.Name, Status: Failed, Failures: []string{msg}}
	}
	main := Account{User: tg.User, Password: tg.Password}
	if tg.NewAccount != nil {
		a, err := tg.NewAccount()
		if err != nil {
			return fail("new account: " + err.Error())
		}
		main = a
	}
	accts := make([]Account, s.Connections)
	var second *Account
	for i := range accts {
		accts[i] = main
		u, ok := s.Users[i+1]
		if !ok {
			continue
		}
		if u == "$user2" || u == "${user2}" {
			if second == nil {
				if tg.NewAccount == nil {
					return nil, &Result{Name: s.Name, Status: Skipped,
						Reason: "needs a second user (set Target.NewAccount)"}
				}
				a, err := tg.NewAccount()
				if err != nil {
					return fail("new account: " + err.Error())
				}
				second = &a
			}
			accts[i] = *second
			continue
		}
		accts[i] = Account{User: u, Password: main.Password}
	}
	return accts, nil
}

func run(t *testing.T, dir string, target Target, filter func(string) bool) {
	t.Helper()
	start := time.Now()
	scripts, err := LoadScripts(filepath.Join(dir, "tests"), target.envLookup())
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	var selected []*Script
	for _, s := range scripts {
		known[s.Name] = true
		if filter == nil || filter(s.Name) {
			selected = append(selected, s)
		}
	}
	for name := range target.Expected {
		if !known[name] {
			t.Errorf("expected failures name %q, which is not an imaptest script", name)
		}
	}

	parallel := 1
	if target.NewAccount != nil {
		parallel = target.Parallel
		if parallel <= 0 {
			parallel = 8
		}
	}
	results := make([]*Result, len(selected))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, s := range selected {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = PlayScript(s, target)
		}()
	}
	wg.Wait()

	counts := map[verdictKind]int{}
	for i, s := range selected {
		res := results[i]
		reason, isExpected := target.Expected[s.Name]
		kind, msg := verdict(s, res, reason, isExpected)
		counts[kind]++
		t.Run(s.Name, func(t *testing.T) {
			for _, o := range res.Output {
				t.Log(o)
			}
			switch kind {
			case verdictSkipped, verdictExpectedFailure:
				t.Skip(msg)
			case verdictFailed, verdictFixed:
				t.Error(msg)
			}
		})
	}
	t.Logf("imaptest: %d scripts in %.1fs: %d passed, %d failed, %d failed as expected, %d expected to fail but passed, %d skipped",
		len(selected), time.Since(start).Seconds(), counts[verdictPassed], counts[verdictFailed],
		counts[verdictExpectedFailure], counts[verdictFixed], counts[verdictSkipped])
}

type verdictKind int

const (
	verdictPassed verdictKind = iota
	verdictFailed
	verdictSkipped
	verdictExpectedFailure // failed, and listed as expected to
	verdictFixed           // passed, but listed as expected to fail
)

// verdict turns a script's result and its expected-failure entry into what
// the test reports: a pass, a failure (unexpected failure, or an expected
// failure that now passes) or a skip (no capability, or failing as
// expected), with the message to show.
func verdict(s *Script, res *Result, reason string, isExpected bool) (verdictKind, string) {
	switch {
	case res.Status == Skipped:
		return verdictSkipped, res.Reason
	case res.Status == Failed && isExpected:
		return verdictExpectedFailure, fmt.Sprintf("expected failure (%s), %.2fs:\n%s",
			reason, res.Duration.Seconds(), strings.Join(res.Failures, "\n"))
	case res.Status == Failed:
		return verdictFailed, fmt.Sprintf("%s failed (%s, %.2fs):\n%s",
			s.Name, s.Path, res.Duration.Seconds(), strings.Join(res.Failures, "\n"))
	case isExpected:
		return verdictFixed, fmt.Sprintf("%s passes now, but it is listed as an expected failure (%s): remove it from the list",
			s.Name, reason)
	}
	return verdictPassed, ""
}
