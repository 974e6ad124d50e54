package lmtp

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"letterbox/storage"
)

// postfixMaster is the master.cf of the private Postfix: SMTP on one
// loopback port, and the services a delivery needs (no pickup, no local).
const postfixMaster = `%s inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

// startPostfix runs Debian's Postfix with its own config and queue
// directories, SMTP on a free loopback port, delivering example.com over
// LMTP to lmtpAddr and the domains of extra to their transports. It
// returns the SMTP address and a function that reads its log.
func startPostfix(t *testing.T, lmtpAddr string, extra map[string]string) (string, func() string) {
	t.Helper()
	bin := needProgram(t, "postfix")
	if os.Geteuid() != 0 {
		t.Skip("Postfix needs root to start; skipping")
	}
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skip("no postfix user; skipping")
	}
	// Postfix's processes run as the postfix user: the directory must be
	// reachable, which t.TempDir (mode 0700) is not.
	dir, err := os.MkdirTemp("", "letterbox-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{dir, filepath.Join(dir, "queue"), filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
	}
	if out, err := exec.Command("chown", "postfix:postfix", filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtpAddr := l.Addr().String()
	l.Close()

	domains := []string{"example.com"}
	var transports []string
	for d, tr := range extra {
		domains = append(domains, d)
		transports = append(transports, d+"="+tr)
	}
	transportMaps := ""
	if len(transports) > 0 {
		transportMaps = "inline:{" + strings.Join(transports, ", ") + "}"
	}
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
meta_directory = /etc/postfix
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = smtp.example.com
mydomain = example.com
myorigin = $myhostname
mydestination =
local_transport = error:no local delivery here
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_reject_unlisted_recipient = no
virtual_mailbox_domains = %[2]s
virtual_transport = lmtp:inet:%[3]s
transport_maps = %[4]s
smtp_dns_support_level = disabled
lmtp_host_lookup = native
biff = no
`, dir, strings.Join(domains, ", "), lmtpAddr, transportMaps)
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.cf"), []byte(fmt.Sprintf(postfixMaster, smtpAddr)), 0o644); err != nil {
		t.Fatal(err)
	}
	readLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "maillog"))
		return string(b)
	}
	if out, err := exec.Command(bin, "-c", dir, "start").CombinedOutput(); err != nil {
		t.Fatalf("postfix start: %v %s\n%s", err, out, readLog())
	}
	t.Cleanup(func() {
		exec.Command(bin, "-c", dir, "stop").Run()
		for range 100 {
			if exec.Command(bin, "-c", dir, "status").Run() != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", smtpAddr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Postfix does not listen on %s:\n%s", smtpAddr, readLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return smtpAddr, readLog
}

// makeFull creates login over its quota.
func makeFull(t *testing.T, s *storage.Store, login string) {
	t.Helper()
	ctx := context.Background()
	a, err := s.CreateAccount(ctx, login, "x", 1000)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, a, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, a, inbox.ID, strings.NewReader("Subject: x\r\n\r\n"+strings.Repeat("x", 880)+"\r\n"), storage.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetQuota(ctx, login, 500); err != nil {
		t.Fatal(err)
	}
}

// TestPostfix: a real MTA end to end. Postfix accepts a message over SMTP
// and delivers it over LMTP: bob and carol get it, with every header as
// sent; full@example.com (over quota, 552) bounces alone, and the bounce
// reaches the sender; full@example.net, on a server with
// quota_full_tempfail (452), is deferred alone.
func TestPostfix(t *testing.T) {
	e := newEnv(t)
	tf := newEnv(t, func(c *envConfig) { c.opts.QuotaFullTempfail = true })
	ctx := context.Background()
	if _, err := e.store.CreateAccount(ctx, "alice@example.com", "x", 0); err != nil {
		t.Fatal(err)
	}
	if err := tf.store.AddDomain(ctx, "example.net"); err != nil {
		t.Fatal(err)
	}
	makeFull(t, tf.store, "full@example.net")
	smtpAddr, maillog := startPostfix(t, e.addr, map[string]string{"example.net": "lmtp:inet:" + tf.addr})

	msg := strings.ReplaceAll(spamMsg, "Message-ID: <spam-headers@example.org>", "Message-ID: <postfix-e2e@example.org>")
	rcpts := []string{"bob@example.com", "full@example.com", "carol@example.com", "full@example.net"}
	if err := smtp.SendMail(smtpAddr, nil, "alice@example.com", rcpts, []byte(msg)); err != nil {
		t.Fatalf("SMTP to Postfix: %v\n%s", err, maillog())
	}
	want := map[string]string{
		"<bob@example.com>":   "status=sent (250 2.0.0 <bob@example.com> Saved",
		"<carol@example.com>": "status=sent (250 2.0.0 <carol@example.com> Saved",
		"<full@example.com>":  "dsn=5.2.2, status=bounced",
		"<full@example.net>":  "dsn=4.2.2, status=deferred",
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		log, missing := maillog(), ""
		for rcpt, status := range want {
			found := false
			for line := range strings.SplitSeq(log, "\n") {
				if strings.Contains(line, "to="+rcpt) && strings.Contains(line, status) {
					found = true
				}
			}
			if !found {
				missing = rcpt + " " + status
			}
		}
		if missing == "" && len(e.inbox("alice@example.com")) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q (or no bounce for alice) in Postfix's log:\n%s", missing, log)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// What the IMAP engine serves as BODY[]: our trace headers, Postfix's
	// Received line, then the message as sent.
	for _, who := range []string{"bob@example.com", "carol@example.com"} {
		msgs := e.inbox(who)
		if len(msgs) != 1 {
			t.Fatalf("%s has %d messages", who, len(msgs))
		}
		got := string(msgs[0])
		tr := traceRE.FindString(got)
		if !strings.HasPrefix(tr, "Return-Path: <alice@example.com>\r\nReceived: from smtp.example.com ([127.0.0.1])\r\n\tby mx.test (Letterbox) with LMTP id ") {
			t.Errorf("%s: trace headers:\n%s", who, tr)
		}
		rest := got[len(tr):]
		if !strings.HasPrefix(rest, "Received: from ") || !strings.Contains(rest[:strings.Index(rest, "\r\n\r\n")], "by smtp.example.com (Postfix) with ") {
			t.Errorf("%s: Postfix's Received header is not next:\n%.300s", who, rest)
		}
		// Postfix adds its Received line and keeps the rest as sent.
		if i := strings.Index(rest, spamMsg[:40]); i < 0 || rest[i:] != msg {
			t.Errorf("%s: the message is not there byte for byte after the trace headers:\n%q", who, rest)
		}
	}
	// The bounce names full@example.com alone.
	bounce := string(e.inbox("alice@example.com")[0])
	if !strings.Contains(bounce, "Final-Recipient: rfc822; full@example.com") || !strings.Contains(bounce, "552 5.2.2") ||
		strings.Contains(bounce, "Final-Recipient: rfc822; bob@example.com") || strings.Contains(bounce, "full@example.net\r\nAction: failed") {
		t.Errorf("bounce to the sender:\n%s", bounce)
	}
	if n := len(tf.inbox("full@example.net")); n != 1 { // the message that filled it
		t.Errorf("full@example.net has %d messages", n)
	}
}
