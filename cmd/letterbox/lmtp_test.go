package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"letterbox/storage"
)

// lmtpSetup makes a data directory with example.com and the given users.
func lmtpSetup(t *testing.T, users ...string) string {
	t.Helper()
	dir := t.TempDir()
	if r := lb(t, dir, "", "domain", "add", "example.com"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, u := range users {
		args := append([]string{"user", "add"}, strings.Fields(u)...)
		if r := lb(t, dir, "pw\n", args...); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	return dir
}

// storedMessages reads a mailbox's messages through the storage API.
func storedMessages(t *testing.T, dir, login, mailbox string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, storage.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.Account(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := s.Mailbox(ctx, a, mailbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Messages(ctx, a, mb.ID, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		c, err := s.Open(ctx, a, mb.ID, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(c.Reader())
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func TestDeliver(t *testing.T) {
	dir := lmtpSetup(t, "bob@example.com", "full@example.com -quota 10")
	msg := "From: alice@example.org\r\nSubject: piped\r\n\r\nHello.\r\n"
	for _, c := range []struct {
		name  string
		input string
		args  []string
		code  int
		want  string // in stderr
	}{
		{"delivered", msg, []string{"-r", "bob@example.com", "-f", "alice@example.org"}, 0, ""},
		{"detail and case", msg, []string{"-r", "Bob+News@Example.com"}, 0, ""},
		{"into a mailbox", msg, []string{"-r", "bob@example.com", "-m", "Archive"}, 0, ""},
		{"missing mailbox falls back to INBOX", msg, []string{"-r", "bob@example.com", "-m", "No/Such"}, 0, ""},
		{"mbox postmark", "From bounce@example.net Tue Jan  2 10:00:00 2024\n" + strings.ReplaceAll(msg, "\r\n", "\n"),
			[]string{"-r", "bob@example.com"}, 0, ""},
		{"unknown user", msg, []string{"-r", "nobody@example.com"}, 67, "550 5.1.1"},
		{"bad address", msg, []string{"-r", "bob"}, 67, "501 5.1.3"},
		{"domain not hosted", msg, []string{"-r", "bob@example.net"}, 68, "550 5.1.2"},
		{"mailbox full", msg, []string{"-r", "full@example.com"}, 73, "552 5.2.2"},
		{"bad sender", msg, []string{"-r", "bob@example.com", "-f", "a\x01b@c"}, 64, "501 5.1.7"},
		{"no recipient", msg, nil, 64, "needs -r"},
		{"stray argument", msg, []string{"-r", "bob@example.com", "x"}, 64, "no arguments"},
		{"unknown flag", msg, []string{"-r", "bob@example.com", "-q"}, 64, "flag provided but not defined"},
	} {
		r := lb(t, dir, c.input, append([]string{"deliver"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d with %q", c.name, r.code, r.stderr, c.code, c.want)
		}
	}
	inbox := storedMessages(t, dir, "bob@example.com", "INBOX")
	if len(inbox) != 4 {
		t.Fatalf("INBOX has %d messages, want 4", len(inbox))
	}
	for i, want := range []string{
		"Return-Path: <alice@example.org>\r\nDelivered-To: bob@example.com\r\nReceived: by ",
		"Delivered-To: Bob+News@Example.com\r\nReceived: by ",
		"Delivered-To: bob@example.com\r\nReceived: by ",
		"Return-Path: <bounce@example.net>\r\nDelivered-To: bob@example.com\r\nReceived: by ",
	} {
		if !strings.HasPrefix(inbox[i], want) || !strings.HasSuffix(inbox[i], msg) {
			t.Errorf("message %d:\n%q\nwant it to start with %q and end with the message (in CRLF form)", i, inbox[i], want)
		}
	}
	if archive := storedMessages(t, dir, "bob@example.com", "Archive"); len(archive) != 1 {
		t.Errorf("Archive has %d messages, want 1", len(archive))
	}

	// quota_full_tempfail turns a full mailbox into a temporary failure.
	cfg := filepath.Join(t.TempDir(), "letterbox.toml")
	if err := os.WriteFile(cfg, []byte("[lmtp]\nquota_full_tempfail = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := lb(t, dir, msg, "deliver", "-config", cfg, "-r", "full@example.com"); r.code != 75 || !strings.Contains(r.stderr, "452 4.2.2") {
		t.Errorf("full with tempfail: exit %d, %q", r.code, r.stderr)
	}
	// A broken config is a temporary failure: the MTA keeps the mail.
	if r := lb(t, dir, msg, "deliver", "-config", "/nonexistent.toml", "-r", "bob@example.com"); r.code != 75 {
		t.Errorf("missing config: exit %d, %q", r.code, r.stderr)
	}
}

// serveWithConfig writes config as dir's letterbox.toml and runs "letterbox
// serve" with it (see startServeProtos).
func serveWithConfig(t *testing.T, dir, config string) (addrs map[string][]string, stop func() string) {
	t.Helper()
	cfg := filepath.Join(dir, "letterbox.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServeProtos(t, dir, cfg)
}

// startServeProtos runs "letterbox serve" with cfg and returns the
// addresses it logged, by protocol name, and a function that stops it.
func startServeProtos(t *testing.T, dir, cfg string) (addrs map[string][]string, stop func() string) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "-config", cfg)
	cmd.Env = append(os.Environ(), "LETTERBOX_DATA="+dir)
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() string {
		if stopped {
			return errb.String()
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve exited with %v: %s", err, errb.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("serve did not stop on SIGTERM: %s", errb.String())
		}
		return errb.String()
	}
	t.Cleanup(func() { stop() })
	re := regexp.MustCompile(`msg=listening proto=(\w+) addr=(\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(errb.String(), "letterbox running") {
			addrs = map[string][]string{}
			for _, m := range re.FindAllStringSubmatch(errb.String(), -1) {
				addrs[m[1]] = append(addrs[m[1]], m[2])
			}
			return addrs, stop
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not start: %s", stop())
	return nil, nil
}

// lmtpSend delivers one message over a raw connection and returns the
// replies after the data, one per accepted recipient.
func lmtpSend(t *testing.T, network, addr string, rcpts []string, msg string) []string {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	read := func() string {
		var last string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			last = strings.TrimRight(line, "\r\n")
			if len(last) < 4 || last[3] != '-' {
				return last
			}
		}
	}
	read()
	fmt.Fprintf(c, "LHLO test\r\nMAIL FROM:<alice@example.org>\r\n")
	for _, rc := range rcpts {
		fmt.Fprintf(c, "RCPT TO:<%s>\r\n", rc)
	}
	fmt.Fprintf(c, "DATA\r\n")
	read() // LHLO
	read() // MAIL
	accepted := 0
	for range rcpts {
		if strings.HasPrefix(read(), "250 ") {
			accepted++
		}
	}
	read() // 354
	fmt.Fprintf(c, "%s.\r\n", msg)
	var out []string
	for range accepted {
		out = append(out, read())
	}
	fmt.Fprintf(c, "QUIT\r\n")
	return out
}

func TestServeLMTP(t *testing.T) {
	dir := lmtpSetup(t, "bob@example.com", "u0@example.com", "u1@example.com")
	sock := filepath.Join(dir, "lmtp.sock")
	// A stale socket left by a crash is replaced.
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	all, stop := serveWithConfig(t, dir, fmt.Sprintf(`
[imap]
listen = ""
[pop3]
listen = ""
[managesieve]
listen = ""
[lmtp]
listen = "127.0.0.1:0"
socket = %q
hostname = "mx.example.com"
`, sock))
	addrs := all["lmtp"]
	if len(addrs) != 2 {
		t.Fatalf("lmtp listening on %v, want TCP and the socket", addrs)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("socket: %v, %v", fi.Mode(), err)
	}
	msg := "Subject: over LMTP\r\n\r\nHi.\r\n"
	for _, addr := range addrs {
		network := "tcp"
		if strings.HasPrefix(addr, "/") {
			network = "unix"
		}
		if got := lmtpSend(t, network, addr, []string{"bob@example.com", "nobody@example.com"}, msg); !strings.HasPrefix(got[0], "250 2.0.0 <bob@example.com>") {
			t.Errorf("%s: %q", addr, got)
		}
	}

	// The load generator, against the same server.
	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	r := lb(t, dir, "", "bench", "lmtp", "-addr", addrs[0], "-n", "20", "-c", "2", "-r", "2", "-users", "2", "-size", "2K:3,40K:1", "-json", jsonPath)
	if r.code != 0 || !strings.Contains(r.stdout, "20/20 delivered") || !strings.Contains(r.stdout, "messages/s") {
		t.Errorf("bench lmtp: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var res lmtpBenchResult
	if b, err := os.ReadFile(jsonPath); err != nil || json.Unmarshal(b, &res) != nil || res.Rcpt250 != 40 || res.Delivered != 20 {
		t.Errorf("bench JSON: %+v, %v", res, err)
	}
	// Every recipient 250 is counted, and nothing else: an unknown user
	// makes the messages count as not delivered.
	r = lb(t, dir, "", "bench", "lmtp", "-addr", addrs[1], "-n", "4", "-r", "1", "-users", "3", "-rcpt", "u%d@example.com", "-quiet")
	if !strings.Contains(r.stdout, "3/4 delivered") {
		t.Errorf("bench with an unknown user: %s%s", r.stdout, r.stderr)
	}

	logs := stop()
	if !strings.Contains(logs, "stopped") {
		t.Errorf("no clean stop: %s", logs)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket still there after stop: %v", err)
	}
	got := storedMessages(t, dir, "bob@example.com", "INBOX")
	if len(got) != 2 {
		t.Fatalf("bob has %d messages, want 2", len(got))
	}
	for _, m := range got {
		if !strings.Contains(m, "\tby mx.example.com (Letterbox) with LMTP id ") || !strings.HasSuffix(m, msg) {
			t.Errorf("stored: %q", m)
		}
	}
	if n := len(storedMessages(t, dir, "u1@example.com", "INBOX")); n != 20+1 {
		t.Errorf("u1 has %d messages, want 21", n)
	}
}
