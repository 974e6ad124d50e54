package lmtp

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"letterbox/outbound"
	"letterbox/outbound/outboundtest"
	"letterbox/sieve"
)

// sieveEnv is a test environment with Sieve on, a capture relay, and the
// given personal scripts made active.
func sieveEnv(t testing.TB, relay bool, before []string, scripts map[string]string) (*testEnv, func() []outboundtest.Captured) {
	t.Helper()
	so := &SieveOptions{}
	captured := func() []outboundtest.Captured { return nil }
	if relay {
		var addr string
		addr, captured = outboundtest.NewCapture(t)
		so.Relay = &outbound.Relay{Addr: addr, TLS: outbound.TLSNone}
	}
	for i, src := range before {
		s, err := sieve.Compile("before", []byte(src), nil)
		if err != nil {
			t.Fatalf("before script %d: %v", i, err)
		}
		so.Before = append(so.Before, s)
	}
	e := newEnv(t, func(c *envConfig) { c.opts.Sieve = so })
	ctx := context.Background()
	for login, src := range scripts {
		a := e.account(login + "@example.com")
		if err := e.store.PutSieveScript(ctx, a, "main", src); err != nil {
			t.Fatal(err)
		}
		if err := e.store.ActivateSieveScript(ctx, a, "main"); err != nil {
			t.Fatal(err)
		}
	}
	return e, captured
}

// deliver sends one message to the recipients and returns the replies.
func (e *testEnv) deliver(from string, msg string, rcpts ...string) []string {
	c := e.dial()
	c.cmd("LHLO test", "250 ")
	c.cmd("MAIL FROM:<"+from+">", "250 ")
	for _, r := range rcpts {
		c.cmd("RCPT TO:<"+r+">", "250 ")
	}
	out := c.data(crlf(msg), len(rcpts))
	c.cmd("QUIT", "221 ")
	return out
}

func subjects(msgs [][]byte) []string {
	var out []string
	for _, m := range msgs {
		for _, line := range strings.Split(string(m), "\r\n") {
			if strings.HasPrefix(line, "Subject: ") {
				out = append(out, strings.TrimPrefix(line, "Subject: "))
			}
		}
	}
	return out
}

const bobScript = `require ["fileinto", "copy"];
if header :is "subject" "archive" { fileinto "Archive"; }
elsif header :is "subject" "drop" { discard; }
elsif header :is "subject" "forward" { redirect "friend@remote.example"; }
elsif header :is "subject" "forward-copy" { redirect :copy "friend@remote.example"; }
elsif header :is "subject" "nowhere" { fileinto "No/Such/Box"; }
elsif header :is "subject" "too-many" {
	redirect "a@r.example"; redirect "b@r.example"; redirect "c@r.example";
	redirect "d@r.example"; redirect "e@r.example";
}
`

func TestSieveFiling(t *testing.T) {
	e, sent := sieveEnv(t, true, nil, map[string]string{"bob": bobScript})
	for _, subj := range []string{"archive", "drop", "forward", "forward-copy", "nowhere", "too-many", "plain"} {
		replies := e.deliver("alice@remote.example", "From: alice@remote.example\nSubject: "+subj+"\n\nhi\n",
			"bob@example.com", "carol@example.com")
		checkCodes(t, replies, "250 ", "250 ")
	}
	// carol has no script: everything in her INBOX.
	if got := subjects(e.inbox("carol@example.com")); len(got) != 7 {
		t.Errorf("carol INBOX: %q", got)
	}
	// A missing mailbox and a run-time error (too many redirects) keep.
	if got := strings.Join(subjects(e.inbox("bob@example.com")), ","); got != "forward-copy,nowhere,too-many,plain" {
		t.Errorf("bob INBOX: %s", got)
	}
	if got := strings.Join(subjects(e.messages("bob@example.com", "Archive")), ","); got != "archive" {
		t.Errorf("bob Archive: %s", got)
	}
	msgs := sent()
	if len(msgs) != 2 {
		t.Fatalf("%d messages sent, want 2 (forward, forward-copy)", len(msgs))
	}
	for _, m := range msgs {
		if m.From != "alice@remote.example" || len(m.To) != 1 || m.To[0] != "friend@remote.example" {
			t.Errorf("redirect envelope: %s -> %v", m.From, m.To)
		}
		if !bytes.HasPrefix(m.Data, []byte("X-Sieve-Redirected-From: bob@example.com\r\n")) ||
			!bytes.Contains(m.Data, []byte("Delivered-To: bob@example.com")) || !bytes.Contains(m.Data, []byte("\r\n\r\nhi\r\n")) {
			t.Errorf("redirected message:\n%s", m.Data)
		}
	}
}

func TestSieveRedirectWithoutRelayKeeps(t *testing.T) {
	e, _ := sieveEnv(t, false, nil, map[string]string{"bob": bobScript})
	checkCodes(t, e.deliver("alice@remote.example", "Subject: forward\n\nhi\n", "bob@example.com"), "250 ")
	if got := subjects(e.inbox("bob@example.com")); len(got) != 1 || got[0] != "forward" {
		t.Errorf("bob INBOX: %q", got)
	}
}

func TestSieveRedirectLoopKeeps(t *testing.T) {
	e, sent := sieveEnv(t, true, nil, map[string]string{"bob": bobScript})
	msg := "Delivered-To: bob@example.com\nSubject: forward\n\nhi\n"
	checkCodes(t, e.deliver("alice@remote.example", msg, "bob@example.com"), "250 ")
	if n := len(sent()); n != 0 {
		t.Errorf("%d messages sent around a loop", n)
	}
	if got := subjects(e.inbox("bob@example.com")); len(got) != 1 {
		t.Errorf("bob INBOX: %q", got)
	}
}

// A copy that a redirect of bob's sent before (by this server or by a
// Dovecot one: Pigeonhole writes the same field) is not sent again.
func TestSieveRedirectMarkerLoopKeeps(t *testing.T) {
	e, sent := sieveEnv(t, true, nil, map[string]string{"bob": bobScript})
	for _, mark := range []string{"bob@example.com", "<BOB@example.com>"} {
		msg := "X-Sieve-Redirected-From: someone@else.example\nX-Sieve-Redirected-From: " + mark + "\nSubject: forward\n\nhi\n"
		checkCodes(t, e.deliver("alice@remote.example", msg, "bob@example.com", "carol@example.com"), "250 ", "250 ")
	}
	if n := len(sent()); n != 0 {
		t.Errorf("%d messages sent around a loop", n)
	}
	if got := subjects(e.inbox("bob@example.com")); len(got) != 2 {
		t.Errorf("bob INBOX: %q", got)
	}
}

// sieve.redirect_envelope_from picks the envelope sender of redirects; a
// message from the null sender keeps it whatever the setting.
func TestSieveRedirectEnvelopeFrom(t *testing.T) {
	for _, c := range []struct{ setting, sender, want string }{
		{"", "alice@remote.example", "alice@remote.example"},
		{"recipient", "alice@remote.example", "bob+x@example.com"},
		{"user_email", "alice@remote.example", "bob@example.com"},
		{"<bounces@example.com>", "alice@remote.example", "bounces@example.com"},
		{"<>", "alice@remote.example", ""},
		{"recipient", "", ""},
	} {
		e, sent := sieveEnv(t, true, nil, map[string]string{"bob": bobScript})
		e.srv.Deliverer().filter.opts.Compile.RedirectFrom = c.setting
		checkCodes(t, e.deliver(c.sender, "Subject: forward\n\nhi\n", "bob+x@example.com"), "250 ")
		msgs := sent()
		if len(msgs) != 1 || msgs[0].From != c.want {
			t.Errorf("%q, sender <%s>: sent %+v, want one from <%s>", c.setting, c.sender, msgs, c.want)
		}
	}
}

func TestSieveBeforeScripts(t *testing.T) {
	global := `require "fileinto"; if header :contains "X-Spam-Flag" "YES" { fileinto "Junk"; }`
	user := `require "fileinto"; fileinto "Archive";`
	e, _ := sieveEnv(t, false, []string{global}, map[string]string{"bob": user})
	checkCodes(t, e.deliver("a@remote.example", "X-Spam-Flag: YES\nSubject: spam\n\nbuy\n", "bob@example.com", "carol@example.com"), "250 ", "250 ")
	checkCodes(t, e.deliver("a@remote.example", "Subject: ham\n\nhello\n", "bob@example.com", "carol@example.com"), "250 ", "250 ")
	// The global rule filed the spam for both; the user's script ran only
	// for the message the global rule left alone.
	for _, who := range []string{"bob", "carol"} {
		if got := subjects(e.messages(who+"@example.com", "Junk")); len(got) != 1 || got[0] != "spam" {
			t.Errorf("%s Junk: %q", who, got)
		}
	}
	if got := subjects(e.messages("bob@example.com", "Archive")); len(got) != 1 || got[0] != "ham" {
		t.Errorf("bob Archive: %q", got)
	}
	if got := subjects(e.inbox("carol@example.com")); len(got) != 1 || got[0] != "ham" {
		t.Errorf("carol INBOX: %q", got)
	}
}

func TestSieveBrokenStoredScriptKeeps(t *testing.T) {
	// A stored script that no longer compiles (written before a limit
	// changed, say) must not lose mail.
	e, _ := sieveEnv(t, false, nil, map[string]string{"bob": `require "nonexistent"; discard;`})
	checkCodes(t, e.deliver("a@remote.example", "Subject: x\n\nbody\n", "bob@example.com"), "250 ")
	if got := subjects(e.inbox("bob@example.com")); len(got) != 1 {
		t.Errorf("bob INBOX: %q", got)
	}
}

func TestSieveRedirectLoopSingleRecipient(t *testing.T) {
	// Redirected once (the copy carries Delivered-To), the message comes
	// back to bob: the second redirect is not sent.
	e, sent := sieveEnv(t, true, nil, map[string]string{"bob": bobScript})
	checkCodes(t, e.deliver("alice@remote.example", "Subject: forward\n\nhi\n", "bob@example.com"), "250 ")
	first := sent()
	if len(first) != 1 {
		t.Fatalf("%d sent", len(first))
	}
	back := strings.ReplaceAll(string(first[0].Data), "\r\n", "\n")
	checkCodes(t, e.deliver("alice@remote.example", back, "bob@example.com"), "250 ")
	if n := len(sent()); n != 1 {
		t.Errorf("%d messages sent, want the first only", n)
	}
	if got := subjects(e.inbox("bob@example.com")); len(got) != 1 {
		t.Errorf("bob INBOX: %q", got)
	}
}

// A script changed in this process applies to the next delivery at once,
// although compiled scripts are cached.
func TestSieveScriptChangeApplies(t *testing.T) {
	e, _ := sieveEnv(t, false, nil, map[string]string{"bob": `require "fileinto"; fileinto "Archive";`})
	ctx := context.Background()
	a := e.account("bob@example.com")
	checkCodes(t, e.deliver("a@remote.example", "Subject: one\n\nx\n", "bob@example.com"), "250 ")
	if err := e.store.PutSieveScript(ctx, a, "main", `require "fileinto"; fileinto "Junk";`); err != nil {
		t.Fatal(err)
	}
	checkCodes(t, e.deliver("a@remote.example", "Subject: two\n\nx\n", "bob@example.com"), "250 ")
	if err := e.store.ActivateSieveScript(ctx, a, ""); err != nil {
		t.Fatal(err)
	}
	checkCodes(t, e.deliver("a@remote.example", "Subject: three\n\nx\n", "bob@example.com"), "250 ")
	for mb, want := range map[string]string{"Archive": "one", "Junk": "two", "INBOX": "three"} {
		if got := strings.Join(subjects(e.messages("bob@example.com", mb)), ","); got != want {
			t.Errorf("%s: %q, want %q", mb, got, want)
		}
	}
}
