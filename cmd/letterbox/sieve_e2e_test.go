package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"letterbox/outbound/outboundtest"
	"letterbox/storage"
)

// e2eScript files, flags, discards, rejects, redirects and answers by
// vacation: everything a user's filter does at delivery.
const e2eScript = `require ["fileinto", "mailbox", "imap4flags", "reject", "vacation"];
if header :contains "subject" "lists" { fileinto :create :flags "\\Seen" "Lists"; stop; }
if header :contains "subject" "urgent" { addflag "\\Flagged"; }
if header :contains "subject" "junk" { discard; stop; }
if header :contains "subject" "refuse" { reject "We do not accept this."; stop; }
if header :contains "subject" "forward" { redirect "friend@remote.example"; stop; }
if header :contains "subject" "away" { vacation :days 1 :subject "Away" "I am away until Monday."; }
`

// TestSieveEndToEnd puts a script over ManageSieve with the real
// sieve-connect, activates it, then delivers over LMTP and checks what
// each delivery became: stored (where, with which flags), refused,
// redirected to the capture relay, answered once per :days.
func TestSieveEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("sieve-connect"); err != nil {
		t.Skip("sieve-connect not installed (Debian package sieve-connect); skipping the end-to-end Sieve test")
	}
	relay, sent := outboundtest.NewCapture(t)
	dir := lmtpSetup(t, "bob@example.com")
	addrs, _ := serveWithConfig(t, dir, `
[imap]
listen = ""
[pop3]
listen = ""
[lmtp]
listen = "127.0.0.1:0"
[managesieve]
listen = "127.0.0.1:0"
[sieve]
relay = "`+relay+`"
relay_tls = "none"
`)
	if len(addrs["managesieve"]) == 0 || len(addrs["lmtp"]) == 0 {
		t.Fatalf("listeners: %v", addrs)
	}

	local := filepath.Join(t.TempDir(), "filter.sieve")
	if err := os.WriteFile(local, []byte(e2eScript), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addrs["managesieve"][0])
	for _, args := range [][]string{
		{"--upload", "--localsieve", local, "--remotesieve", "main"},
		{"--activate", "--remotesieve", "main"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, "sieve-connect", append([]string{"--server", host, "--port", port, "--nosrv",
			"--clearchan", "--user", "bob@example.com", "--passwordfd", "0", "--authmech", "PLAIN"}, args...)...)
		cmd.Stdin = strings.NewReader("pw\n")
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("sieve-connect %v: %v\n%s", args, err, out)
		}
	}

	deliver := func(subject string) string {
		t.Helper()
		msg := "From: Alice <alice@remote.example>\r\nTo: bob@example.com\r\nSubject: " + subject +
			"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@remote.example>\r\n\r\nHello.\r\n"
		r := lmtpSendFrom(t, addrs["lmtp"][0], "alice@remote.example", "bob@example.com", msg)
		return r
	}
	for _, c := range []struct{ subject, reply string }{
		{"lists digest", "250 "},
		{"urgent matter", "250 "},
		{"junk offer", "250 "},
		{"refuse me", "550 5.7.1 <bob@example.com> We do not accept this."},
		{"forward this", "250 "},
		{"away one", "250 "},
		{"away two", "250 "},
	} {
		if got := deliver(c.subject); !strings.HasPrefix(got, c.reply) {
			t.Errorf("%s: %q, want %q", c.subject, got, c.reply)
		}
	}

	boxes := mailboxFlags(t, dir, "bob@example.com")
	want := map[string]string{
		"Lists": "lists digest [\\Seen]",
		"INBOX": "urgent matter [\\Flagged], away one [], away two []",
	}
	for mb, w := range want {
		if got := strings.Join(boxes[mb], ", "); got != w {
			t.Errorf("%s: %s, want %s", mb, got, w)
		}
	}
	var redirects, vacations []outboundtest.Captured
	for _, m := range sent() {
		if m.From == "" {
			vacations = append(vacations, m)
		} else {
			redirects = append(redirects, m)
		}
	}
	if len(redirects) != 1 || redirects[0].To[0] != "friend@remote.example" || !bytes.Contains(redirects[0].Data, []byte("Subject: forward this")) {
		t.Errorf("redirects: %+v", redirects)
	}
	if len(vacations) != 1 {
		t.Fatalf("%d vacation replies, want 1 (one per :days)", len(vacations))
	}
	v := string(vacations[0].Data)
	for _, w := range []string{"Subject: Away", "In-Reply-To: <away.one@remote.example>", "Auto-Submitted: auto-replied", "I am away until Monday."} {
		if !strings.Contains(v, w) {
			t.Errorf("vacation reply lacks %q:\n%s", w, v)
		}
	}
	if vacations[0].To[0] != "alice@remote.example" {
		t.Errorf("vacation sent to %v", vacations[0].To)
	}
}

// lmtpSendFrom delivers one message to one recipient and returns the
// reply after DATA.
func lmtpSendFrom(t *testing.T, addr, from, rcpt, msg string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	// read returns the last line of a (possibly multi-line) reply.
	read := func() string {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if len(l) < 4 || l[3] != '-' {
				return strings.TrimSpace(l)
			}
		}
	}
	read()
	for _, line := range []string{"LHLO test", "MAIL FROM:<" + from + ">", "RCPT TO:<" + rcpt + ">", "DATA"} {
		io.WriteString(c, line+"\r\n")
		read()
	}
	io.WriteString(c, msg+".\r\n")
	return read()
}

// mailboxFlags lists every mailbox's messages as "subject [flags]".
func mailboxFlags(t *testing.T, dir, login string) map[string][]string {
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
	mbs, err := s.ListMailboxes(ctx, a, "*")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, mb := range mbs {
		msgs, err := s.Messages(ctx, a, mb.ID, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			c, err := s.Open(ctx, a, mb.ID, m.UID)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(c.Reader())
			c.Close()
			subject := ""
			for _, l := range strings.Split(string(b), "\r\n") {
				if strings.HasPrefix(l, "Subject: ") {
					subject = strings.TrimPrefix(l, "Subject: ")
				}
			}
			out[mb.Name] = append(out[mb.Name], subject+" ["+strings.Join(m.Flags.Names(), " ")+"]")
		}
	}
	return out
}
