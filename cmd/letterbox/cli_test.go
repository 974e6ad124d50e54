package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "letterbox-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "letterbox")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// lb runs the binary with its data in dir, stdin from input.
func lb(t *testing.T, dir, input string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "LETTERBOX_DATA="+dir)
	cmd.Stdin = strings.NewReader(input)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	ok := func(r result) result {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		return r
	}
	ok(lb(t, dir, "", "domain", "add", "example.com"))
	if _, err := os.Stat(filepath.Join(dir, "domains", "example.com", "letterbox.db")); err != nil {
		t.Fatalf("domain file: %v", err)
	}
	ok(lb(t, dir, "s3cret\n", "user", "add", "bob@example.com", "-quota", "10M"))
	r := ok(lb(t, dir, "", "user", "list"))
	if !strings.Contains(r.stdout, "bob@example.com") || !strings.Contains(r.stdout, "10.0M") {
		t.Fatalf("user list: %q", r.stdout)
	}
	r = ok(lb(t, dir, "", "mailbox", "list", "bob@example.com"))
	for _, mb := range []string{"INBOX", "Drafts", `\Sent`, "Trash", `\Junk`, "Archive"} {
		if !strings.Contains(r.stdout, mb) {
			t.Fatalf("mailbox list lacks %s: %q", mb, r.stdout)
		}
	}
	ok(lb(t, dir, "", "mailbox", "create", "bob@example.com", "Lists/Go", "-special-use", `\Archive`))
	if r = ok(lb(t, dir, "", "mailbox", "list", "bob@example.com")); !strings.Contains(r.stdout, "Lists/Go") {
		t.Fatalf("created mailbox missing: %q", r.stdout)
	}
	ok(lb(t, dir, "", "mailbox", "delete", "bob@example.com", "Lists/Go"))
	ok(lb(t, dir, "n3w\n", "user", "passwd", "bob@example.com"))
	ok(lb(t, dir, "", "user", "quota", "bob@example.com", "1G"))
	if r = ok(lb(t, dir, "", "user", "quota", "bob@example.com")); !strings.Contains(r.stdout, "of 1.0G") {
		t.Fatalf("quota: %q", r.stdout)
	}
	ok(lb(t, dir, "", "migrate"))
	if r = ok(lb(t, dir, "", "fsck")); !strings.Contains(r.stdout, "fixed 0 mailbox") {
		t.Fatalf("fsck: %q", r.stdout)
	}
	// A message of 256 KiB or more is a file beside the database; fsck
	// fails, naming it, when that file is gone.
	large := "From: a@example.org\nSubject: large\n\n" + strings.Repeat("0123456789abcdef\n", 20000)
	ok(lb(t, dir, large, "deliver", "-r", "bob@example.com"))
	blobs := filepath.Join(dir, "domains", "example.com", "blobs")
	if files, _ := filepath.Glob(filepath.Join(blobs, "*", "*")); len(files) != 1 {
		t.Fatalf("blob files after a large delivery: %v, want 1", files)
	}
	ok(lb(t, dir, "", "fsck"))
	os.RemoveAll(blobs)
	if r = lb(t, dir, "", "fsck"); r.code != 1 || !strings.Contains(r.stderr, "content of 1 message blob(s) is gone") {
		t.Fatalf("fsck without the blob file: exit %d, %q", r.code, r.stderr)
	}
	if r = ok(lb(t, dir, "", "config", "check")); !strings.Contains(r.stdout, "127.0.0.1:1143") {
		t.Fatalf("config check: %q", r.stdout)
	}
	ok(lb(t, dir, "", "version"))

	// Failures: one line, exit 1. Usage errors: usage, exit 2.
	for _, c := range []struct {
		code  int
		input string
		args  []string
		want  string
	}{
		{1, "", []string{"user", "add", "bob@example.com"}, "empty password"},
		{1, "x\n", []string{"user", "add", "bob@example.com"}, "already exists"},
		{1, "x\n", []string{"user", "add", "eve@nowhere.org"}, "domain not hosted"},
		{1, "", []string{"mailbox", "create", "bob@example.com", "a/../b"}, "invalid name"},
		{1, "", []string{"domain", "del", "example.com"}, "confirmation"},
		{1, "", []string{"user", "list", "-config", "/nonexistent.toml"}, "nonexistent"},
		{2, "", []string{"user", "add"}, "usage: letterbox user add"},
		{2, "", []string{"user", "frobnicate"}, "unknown action"},
		{2, "", []string{"nosuchcommand"}, "usage: letterbox COMMAND"},
		{2, "", []string{"domain", "add", "-bogus", "x.org"}, "flag provided but not defined"},
		{2, "", nil, "usage: letterbox COMMAND"},
	} {
		r := lb(t, dir, c.input, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", c.args, r.code, r.stderr, c.code, c.want)
		}
		if c.code == 1 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: failure is more than one line: %q", c.args, r.stderr)
		}
	}
	ok(lb(t, dir, "", "user", "del", "-yes", "bob@example.com"))
	ok(lb(t, dir, "", "domain", "del", "-yes", "example.com"))
	if _, err := os.Stat(filepath.Join(dir, "domains", "example.com")); !os.IsNotExist(err) {
		t.Fatalf("domain directory still there: %v", err)
	}
}

func TestServeStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "LETTERBOX_DATA="+dir)
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "running") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v: %s", err, errb.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not stop on SIGTERM: %s", errb.String())
	}
	if !strings.Contains(errb.String(), "stopped") {
		t.Fatalf("no clean stop logged: %s", errb.String())
	}
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
