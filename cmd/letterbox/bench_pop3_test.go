package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"letterbox/auth"
	"letterbox/internal/testcert"
	"letterbox/pop3"
	"letterbox/storage"
)

// TestBenchPOP3 runs `letterbox bench pop3` against `letterbox serve`: two
// clients, each on its own maildrop, two runs, JSON out.
func TestBenchPOP3(t *testing.T) {
	dir := lmtpSetup(t, "u1@example.com", "u2@example.com")
	addrs, _ := serveWithConfig(t, dir, `
[imap]
listen = ""
[pop3]
listen = "127.0.0.1:0"
[managesieve]
listen = ""
[lmtp]
listen = "127.0.0.1:0"
`)
	if len(addrs["pop3"]) == 0 || len(addrs["lmtp"]) == 0 {
		t.Skipf("serve lacks a POP3 or LMTP listener in this build: %v", addrs)
	}
	for i := 0; i < 5; i++ {
		msg := fmt.Sprintf("Subject: %d\r\n\r\n%s\r\n.dot\r\n", i, strings.Repeat("x", i*1000))
		lmtpSend(t, "tcp", addrs["lmtp"][0], []string{"u1@example.com", "u2@example.com"}, msg)
	}
	r := lb(t, dir, "", "bench", "pop3", "-addr", addrs["pop3"][0], "-user", "u%d@example.com",
		"-password", "pw", "-clients", "2", "-runs", "2", "-json")
	if r.code != 0 {
		t.Fatalf("bench pop3: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON line per run: %q", r.stdout)
	}
	for _, l := range lines {
		var run pop3RunResult
		if err := json.Unmarshal([]byte(l), &run); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		if run.Clients != 2 || run.Messages != 10 || run.Bytes == 0 || run.Wall <= 0 {
			t.Fatalf("run %+v", run)
		}
	}
	// Text output ends with the median; a wrong password fails the run.
	if r := lb(t, dir, "", "bench", "pop3", "-addr", addrs["pop3"][0], "-user", "u1@example.com", "-password", "pw", "-runs", "3"); r.code != 0 || !strings.Contains(r.stdout, "median of 3 runs") {
		t.Fatalf("text output: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := lb(t, dir, "", "bench", "pop3", "-addr", addrs["pop3"][0], "-user", "u1@example.com", "-password", "wrong"); r.code != 1 || !strings.Contains(r.stderr, "[AUTH]") {
		t.Fatalf("wrong password: exit %d %s", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"bench", "pop3"},
		{"bench", "pop3", "-user", "x", "-clients", "0"},
		{"bench", "pop3", "-user", "x", "-tls", "-starttls"},
		{"bench", "pop3", "-user", "x", "-auth", "cram"},
	} {
		if r := lb(t, dir, "", args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage): %s", args, r.code, r.stderr)
		}
	}
}

// TestBenchPOP3TLS drives the bench client's STLS, implicit TLS and AUTH
// PLAIN paths against an in-process POP3 server.
func TestBenchPOP3TLS(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.AddDomain(ctx, "example.com")
	acct, err := st.CreateAccount(ctx, "bob@example.com", "{PLAIN}pw", 0)
	if err != nil {
		t.Fatal(err)
	}
	inbox, _ := st.Mailbox(ctx, acct, "INBOX")
	for i := range 3 {
		st.Append(ctx, acct, inbox.ID, strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\n.%d\r\n", i, i)), storage.AppendOptions{})
	}
	cert := testcert.New(t, "127.0.0.1")
	srv := &pop3.Server{Store: st, Auth: &auth.Authenticator{Store: st},
		TLS: cert.Server,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	plain, _ := net.Listen("tcp", "127.0.0.1:0")
	implicit, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(plain, false)
	go srv.Serve(implicit, true)
	defer srv.Shutdown(ctx)
	for _, c := range []struct {
		mode, auth string
		ln         net.Listener
	}{{"stls", "user", plain}, {"tls", "plain", implicit}, {"stls", "plain", plain}} {
		cfg := pop3BenchConfig{addr: c.ln.Addr().String(), user: "bob@example.com", password: "pw", clients: 1,
			mode: c.mode, auth: c.auth, timeout: time.Minute, tlsConfig: &tls.Config{RootCAs: cert.Roots, ServerName: "127.0.0.1"}}
		run, err := benchPOP3Run(ctx, cfg)
		if err != nil || run.Messages != 3 {
			t.Errorf("%s/%s: %+v, %v", c.mode, c.auth, run, err)
		}
	}
	// Without TLS the server (no CleartextAllowed) refuses the password.
	cfg := pop3BenchConfig{addr: plain.Addr().String(), user: "bob@example.com", password: "pw", clients: 1, mode: "plain", auth: "user", timeout: time.Minute}
	if _, err := benchPOP3Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "[AUTH]") {
		t.Errorf("cleartext: %v", err)
	}
}
