package pop3

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"letterbox/auth"
)

func apopDigest(greeting, secret string) string {
	ts := regexp.MustCompile(`<[^>]*>`).FindString(greeting)
	sum := md5.Sum([]byte(ts + secret))
	return hex.EncodeToString(sum[:])
}

// fastThrottle keeps the throttle but shortens its waits, for tests that
// fail logins on purpose.
func fastThrottle(s *Server) {
	s.Throttle = auth.NewThrottle()
	s.Throttle.Base = time.Millisecond
	s.Throttle.Max = 10 * time.Millisecond
}

func TestAPOP(t *testing.T) {
	e := newTestEnv(t, fastThrottle)
	// A hashed password (not argon2id: slow under -race, and any hash will do).
	sum := sha256.Sum256([]byte("hashed"))
	hash := "{SHA256}" + base64.StdEncoding.EncodeToString(sum[:])
	if _, err := e.store.CreateAccount(context.Background(), "carol@example.com", hash, 0); err != nil {
		t.Fatal(err)
	}
	e.deliver(msg1)

	c := e.dial()
	if r := c.err("APOP bob@example.com " + apopDigest(c.greeting, "wrong")); !strings.HasPrefix(r, "-ERR [AUTH] ") {
		t.Fatalf("wrong APOP: %q", r)
	}
	c.err("APOP bob@example.com nothex")
	c.err("APOP bob@example.com")
	// Case does not matter in the name; the digest is checked against this
	// connection's timestamp only.
	if r := c.ok("APOP Bob@Example.com " + apopDigest(c.greeting, "secret")); !strings.Contains(r, "1 messages") {
		t.Fatalf("APOP: %q", r)
	}
	if got := c.retr(1); got != msg1 {
		t.Fatalf("RETR %q", got)
	}
	c.ok("QUIT")

	// A digest made for another greeting is refused (no replay).
	old := c.greeting
	c = e.dial()
	c.err("APOP bob@example.com " + apopDigest(old, "secret"))

	// An account whose password is hashed cannot use APOP, but USER/PASS.
	c.err("APOP carol@example.com " + apopDigest(c.greeting, "hashed"))
	c.err("APOP nobody@example.com " + apopDigest(c.greeting, "x"))
	c.ok("USER carol@example.com")
	c.ok("PASS hashed")
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAuthSASL(t *testing.T) {
	e := newTestEnv(t, fastThrottle)
	e.deliver(msg1)
	plain := b64("\x00bob@example.com\x00secret")

	// PLAIN with an initial response.
	c := e.dial()
	if l := c.lines("AUTH"); strings.Join(l, " ") != "PLAIN LOGIN" {
		t.Fatalf("AUTH list %q", l)
	}
	c.ok("AUTH PLAIN " + plain)
	c.err("AUTH PLAIN " + plain) // RFC 5034: no AUTH after a successful one
	c.ok("QUIT")

	// PLAIN without: an empty challenge is "+ ".
	c = e.dial()
	if r := c.cmd("AUTH plain"); r != "+ " {
		t.Fatalf("empty challenge %q", r)
	}
	c.ok(plain)
	c.ok("QUIT")

	// PLAIN with an authorization identity: only the user's own.
	c = e.dial()
	c.ok("AUTH PLAIN " + b64("bob@example.com\x00bob@example.com\x00secret"))
	c.ok("QUIT")
	c = e.dial()
	if r := c.err("AUTH PLAIN " + b64("alice@example.com\x00bob@example.com\x00secret")); !strings.HasPrefix(r, "-ERR [AUTH]") {
		t.Fatalf("proxy authorization %q", r)
	}

	// LOGIN, step by step and with the user name as initial response.
	if r := c.cmd("AUTH LOGIN"); r != "+ "+b64("Username:") {
		t.Fatalf("LOGIN first challenge %q", r)
	}
	if r := c.cmd(b64("bob@example.com")); r != "+ "+b64("Password:") {
		t.Fatalf("LOGIN second challenge %q", r)
	}
	c.ok(b64("secret"))
	c.ok("QUIT")
	c = e.dial()
	if r := c.cmd("AUTH LOGIN " + b64("bob@example.com")); r != "+ "+b64("Password:") {
		t.Fatalf("LOGIN with initial response %q", r)
	}
	c.ok(b64("secret"))
	c.ok("QUIT")

	// Failures leave the session in AUTHORIZATION.
	c = e.dial()
	if r := c.err("AUTH PLAIN " + b64("\x00bob@example.com\x00wrong")); !strings.HasPrefix(r, "-ERR [AUTH] ") {
		t.Fatalf("wrong password %q", r)
	}
	c.err("AUTH PLAIN =")          // an empty PLAIN message is malformed
	c.err("AUTH PLAIN not*base64") // RFC 5034: reject what is not base64
	c.err("AUTH CRAM-MD5")         // not offered
	c.err("AUTH PLAIN " + plain + " extra")
	c.cmd("AUTH PLAIN")
	if r := c.err("*"); !strings.Contains(r, "cancelled") {
		t.Fatalf("cancel %q", r)
	}
	c.cmd("AUTH LOGIN")
	c.err("!!!")
	c.ok("AUTH PLAIN " + plain)
	c.ok("STAT")
}

// TestThrottle: failed logins are slowed, then refused with SYS/TEMP even
// with the right password, through the throttle shared with IMAP.
func TestThrottle(t *testing.T) {
	e := newTestEnv(t, func(s *Server) {
		s.Throttle = auth.NewThrottle()
		s.Throttle.Base = 50 * time.Millisecond
		s.Throttle.Limit = 3
	})
	c := e.dial()
	for i := 0; i < 3; i++ {
		c.ok("USER bob@example.com")
		if r := c.err("PASS wrong"); !strings.HasPrefix(r, "-ERR [AUTH] ") {
			t.Fatalf("failure %d: %q", i, r)
		}
	}
	start := time.Now()
	c.ok("USER bob@example.com")
	if r := c.err("PASS secret"); !strings.HasPrefix(r, "-ERR [SYS/TEMP] ") {
		t.Fatalf("after the limit: %q", r)
	}
	// The same throttle covers APOP and AUTH, and other connections.
	c2 := e.dial()
	if r := c2.err("AUTH PLAIN " + b64("\x00bob@example.com\x00secret")); !strings.HasPrefix(r, "-ERR [SYS/TEMP] ") {
		t.Fatalf("AUTH after the limit: %q", r)
	}
	if r := c2.err("APOP bob@example.com " + apopDigest(c2.greeting, "secret")); !strings.HasPrefix(r, "-ERR [SYS/TEMP] ") {
		t.Fatalf("APOP after the limit: %q", r)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("refusal took too long")
	}

	// Below the limit, a failure makes the next attempt wait.
	e2 := newTestEnv(t, func(s *Server) {
		s.Throttle = auth.NewThrottle()
		s.Throttle.Base = 300 * time.Millisecond
	})
	c = e2.dial()
	c.ok("USER bob@example.com")
	c.err("PASS wrong")
	c.ok("USER bob@example.com")
	start = time.Now()
	c.ok("PASS secret")
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("login after a failure answered in %v, want the throttle's wait", d)
	}
}

// TestPassSpaces: PASS takes the rest of the line, spaces included.
func TestPassSpaces(t *testing.T) {
	e := newTestEnv(t)
	if _, err := e.store.CreateAccount(context.Background(), "dave@example.com", "{PLAIN} two  spaces ", 0); err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	c.ok("USER dave@example.com")
	c.ok("PASS  two  spaces ")
}
