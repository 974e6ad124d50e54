package sieve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestPigeonhole runs Pigeonhole's own test suite (the .svtest files in
// $LETTERBOX_CONFORMANCE/pigeonhole/tests) with the testsuite extension
// of testsuite_ext_test.go. One sub-test per file; classification.json
// says what each file needs (see the conformance README):
//
//   - A, B1, B2: run, and must pass unless testdata/sieve/EXPECTED.md
//     lists the file with a reason;
//   - C (other extensions): skipped, except those the Sieve issue asks
//     for (special-use);
//   - D (vnd.dovecot.*): skipped;
//   - F (failures/): run, and must fail without crashing the harness.
func TestPigeonhole(t *testing.T) {
	root := os.Getenv("LETTERBOX_CONFORMANCE")
	if root == "" {
		t.Skip("LETTERBOX_CONFORMANCE is not set; it names the folder holding pigeonhole/ (e.g. ../shared/conformance)")
	}
	base := filepath.Join(root, "pigeonhole")
	files, err := loadClassification(filepath.Join(base, "classification.json"))
	if err != nil {
		t.Skipf("no Pigeonhole suite under %s: %v", root, err)
	}
	expected, err := loadExpected(filepath.Join("..", "testdata", "sieve", "EXPECTED.md"))
	if err != nil {
		t.Fatalf("read EXPECTED.md: %v", err)
	}

	type tally struct{ passed, failed, expected, skipped, fixed, subPassed, subFailed int }
	per := map[string]*tally{}
	var mu sync.Mutex // guards per: the files run in parallel
	var total tally
	seen := map[string]bool{}
	t.Run("files", func(t *testing.T) {
		for _, f := range files {
			name := svtestName(f.File)
			seen[name] = true
			cls := classLetter(f.Class)
			if per[cls] == nil {
				per[cls] = &tally{}
			}
			tl := per[cls]
			count := func(field *int) {
				mu.Lock()
				*field++
				mu.Unlock()
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				if why := skipReason(f); why != "" {
					count(&tl.skipped)
					t.Skip(why)
				}
				res := runSvtestFile(filepath.Join(base, "tests", f.File))
				for _, o := range res.tests {
					if o.failed {
						count(&tl.subFailed)
					} else {
						count(&tl.subPassed)
					}
				}
				report := res.describe()
				reason, listed := expected[name]
				switch {
				case cls == "F":
					if res.ok() {
						if listed {
							count(&tl.expected)
							t.Skipf("listed in EXPECTED.md: %s", reason)
						}
						count(&tl.failed)
						t.Errorf("Pigeonhole marks this file as one that must fail, but it passed")
						return
					}
					count(&tl.passed)
					t.Logf("failed as it must:\n%s", report)
				case res.ok():
					count(&tl.passed)
					if listed {
						count(&tl.fixed)
						t.Logf("passes now: remove it from EXPECTED.md (%s)", reason)
					}
				case listed:
					count(&tl.expected)
					t.Skipf("expected failure (EXPECTED.md: %s):\n%s", reason, report)
				default:
					count(&tl.failed)
					t.Errorf("%s", report)
				}
			})
		}
	})
	for name := range expected {
		if !seen[name] {
			t.Errorf("EXPECTED.md lists %q, which is not a file of the suite", name)
		}
	}
	var classes []string
	for c := range per {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var parts []string
	for _, c := range classes {
		x := per[c]
		parts = append(parts, fmt.Sprintf("%s: %d passed, %d failed, %d expected failures, %d skipped; sub-tests %d passed, %d failed",
			c, x.passed, x.failed, x.expected, x.skipped, x.subPassed, x.subFailed))
		total.passed += x.passed
		total.failed += x.failed
		total.expected += x.expected
		total.skipped += x.skipped
		total.fixed += x.fixed
		total.subPassed += x.subPassed
		total.subFailed += x.subFailed
	}
	t.Logf("Pigeonhole suite: files %d passed, %d failed, %d expected failures (EXPECTED.md), %d skipped; sub-tests %d passed, %d failed; %d listed in EXPECTED.md pass now\n  %s",
		total.passed, total.failed, total.expected, total.skipped, total.subPassed, total.subFailed, total.fixed,
		strings.Join(parts, "\n  "))
}

type svtestFile struct {
	File     string   `json:"file"`
	Class    string   `json:"cls"`
	Requires []string `json:"requires"`
	Nonstd   []string `json:"nonstd"`
}

func loadClassification(path string) ([]svtestFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var files []svtestFile
	if err := json.Unmarshal(b, &files); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].File < files[j].File })
	return files, nil
}

// svtestName is the sub-test name of a file: its path under tests/
// without ".svtest" (test-address.svtest.in is "test-address").
func svtestName(file string) string {
	if i := strings.Index(file, ".svtest"); i >= 0 {
		return file[:i]
	}
	return file
}

func classLetter(cls string) string {
	if i := strings.IndexByte(cls, '-'); i > 0 {
		return cls[:i]
	}
	return cls
}

// issueExtensions are the non-standard-to-Pigeonhole-core extensions of
// class C that the Sieve issue asks for: their files run.
var issueExtensions = map[string]bool{"special-use": true}

// skipReason says why a file is not run, or "".
func skipReason(f svtestFile) string {
	switch classLetter(f.Class) {
	case "C":
		for _, e := range f.Nonstd {
			if !issueExtensions[e] {
				return fmt.Sprintf("class C: needs %s, which the Sieve issue does not ask for", strings.Join(f.Nonstd, ", "))
			}
		}
	case "D":
		return fmt.Sprintf("class D: needs Dovecot's own %s", strings.Join(f.Nonstd, ", "))
	}
	return ""
}

var expectedEntry = regexp.MustCompile("^- `([^`]+)` — (.+)$")

// loadExpected reads the files EXPECTED.md lists as expected failures:
// list items of the form "- `name` — reason" in its section "## Pigeonhole
// test suite" (the rest of the file is diff_test.go's).
func loadExpected(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	inSection := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		if strings.HasPrefix(line, "## ") {
			inSection = strings.HasPrefix(line, "## Pigeonhole test suite")
			continue
		}
		m := expectedEntry.FindStringSubmatch(line)
		if !inSection || m == nil {
			continue
		}
		out[m[1]] = m[2]
	}
	return out, sc.Err()
}

// svtestResult is what running one .svtest file gave.
type svtestResult struct {
	compileErr  error
	runErr      error
	panicked    string
	topErr      []string
	tests       []tsOutcome
	unsupported []string
	log         []string
}

func (r *svtestResult) ok() bool {
	if r.compileErr != nil || r.runErr != nil || r.panicked != "" || len(r.topErr) > 0 {
		return false
	}
	for _, o := range r.tests {
		if o.failed {
			return false
		}
	}
	return true
}

func (r *svtestResult) describe() string {
	var b strings.Builder
	if r.compileErr != nil {
		fmt.Fprintf(&b, "compile: %v\n", r.compileErr)
	}
	if r.runErr != nil {
		fmt.Fprintf(&b, "run: %v\n", r.runErr)
	}
	if r.panicked != "" {
		fmt.Fprintf(&b, "panic: %s\n", r.panicked)
	}
	for _, e := range r.topErr {
		fmt.Fprintf(&b, "outside a test: %s\n", e)
	}
	for i, o := range r.tests {
		if o.failed {
			fmt.Fprintf(&b, "%2d: test '%s' FAILED: %s\n", i+1, o.name, o.reason)
		}
	}
	if len(r.unsupported) > 0 {
		fmt.Fprintf(&b, "settings not mapped: %s\n", strings.Join(r.unsupported, ", "))
	}
	for _, l := range r.log {
		b.WriteString(l + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// runSvtestFile compiles and runs one .svtest file with a fresh suite.
func runSvtestFile(path string) (res *svtestResult) {
	res = &svtestResult{}
	ctx := context.Background()
	st := newSuite(ctx, filepath.Dir(path))
	st.logf = func(format string, args ...any) { res.log = append(res.log, fmt.Sprintf(format, args...)) }
	defer func() {
		if p := recover(); p != nil {
			res.panicked = fmt.Sprintf("%v\n%s", p, debug.Stack())
		}
		res.tests = st.tests
		res.topErr = st.topErr
		res.unsupported = st.unsupported
	}()
	src, err := os.ReadFile(path)
	if err != nil {
		res.compileErr = err
		return res
	}
	s, err := Compile(filepath.Base(path), src, st.opts)
	if err != nil {
		res.compileErr = err
		return res
	}
	r := newRuntime(ctx, st.in, s.limits)
	r.ext[testsuiteExt] = st
	st.main, st.mainScript = r, s
	st.messageChanged(r)
	if !r.runScript(s) {
		res.runErr = r.res.Err
	}
	return res
}
