package managesieve

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"letterbox/storage"
)

func TestCapabilities(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	want := []string{
		`"IMPLEMENTATION" "Letterbox"`,
		`"SASL" "PLAIN LOGIN"`,
		`"SIEVE" "fileinto reject enotify variables"`,
		`"STARTTLS"`,
		`"MAXREDIRECTS" "4"`,
		`"NOTIFY" "mailto"`,
		`"UNAUTHENTICATE"`,
		`"VERSION" "1.0"`,
	}
	if strings.Join(c.greeting, "\n") != strings.Join(want, "\n") {
		t.Fatalf("greeting:\n%s\nwant:\n%s", strings.Join(c.greeting, "\n"), strings.Join(want, "\n"))
	}
	if got := c.ok("CAPABILITY"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("CAPABILITY: %q", got)
	}
	c.no("CAPABILITY extra", "NO")
	c.ok(`AUTHENTICATE "PLAIN" "` + plain("", "bob@example.com", "secret") + `"`)
	if got := c.ok("capability"); !hasLine(got, `"OWNER" "bob@example.com"`) || hasLine(got, `"STARTTLS"`) {
		t.Fatalf("after login, want OWNER and no STARTTLS: %q", got)
	}
}

// A server without enotify, redirect limit or TLS says none of them.
func TestCapabilitiesMinimal(t *testing.T) {
	e := newTestEnv(t, func(s *Server) {
		s.TLS, s.NotifyMethods, s.MaxRedirects, s.Extensions = nil, nil, 0, []string{"fileinto"}
	})
	c := e.dial()
	for _, l := range c.greeting {
		for _, bad := range []string{"STARTTLS", "NOTIFY", "MAXREDIRECTS", "OWNER"} {
			if strings.Contains(l, bad) {
				t.Errorf("greeting has %q", l)
			}
		}
	}
	if !hasLine(c.greeting, `"SIEVE" "fileinto"`) {
		t.Errorf("greeting %q", c.greeting)
	}
}

func TestAuthenticatePlain(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.no(`AUTHENTICATE "PLAIN" "`+plain("", "bob@example.com", "wrong")+`"`, `NO "Authentication failed"`)
	c.no(`LISTSCRIPTS`, `NO "LISTSCRIPTS needs AUTHENTICATE first"`)

	// No initial response: the server sends an empty challenge.
	c = e.dial()
	c.send(`AUTHENTICATE "PLAIN"`)
	if l := c.item(); l != `""` {
		t.Fatalf("challenge %q", l)
	}
	c.send(`"` + plain("", "bob@example.com", "secret") + `"`)
	if _, last := c.response(); last != `OK "Logged in"` {
		t.Fatalf("got %q", last)
	}
	c.ok("LISTSCRIPTS")
	c.no(`AUTHENTICATE "PLAIN" ""`, `NO "AUTHENTICATE is not allowed after AUTHENTICATE"`)

	// The response as a literal, and the initial response as a literal.
	c = e.dial()
	c.send(`AUTHENTICATE "PLAIN"`)
	c.item()
	c.send(literal(plain("", "bob@example.com", "secret")))
	if _, last := c.response(); last != `OK "Logged in"` {
		t.Fatalf("got %q", last)
	}
	c = e.dial()
	c.ok(`Authenticate "plain" ` + literal(plain("bob@example.com", "Bob@Example.com", "secret")))

	// Cancel, bad base64, proxy authorization, unknown mechanism.
	c = e.dial()
	c.send(`AUTHENTICATE "PLAIN"`)
	c.item()
	c.send(`"*"`)
	if _, last := c.response(); last != `NO "Authentication cancelled"` {
		t.Fatalf("cancel: %q", last)
	}
	c.no(`AUTHENTICATE "PLAIN" "!!!"`, `NO "Invalid base64`)
	c.send(`AUTHENTICATE "PLAIN"`)
	c = e.dial() // a fresh session: the error count ends sessions before login
	c.send(`AUTHENTICATE "PLAIN"`)
	c.item()
	c.send(`"not base64"`)
	if _, last := c.response(); !strings.HasPrefix(last, `NO "Invalid base64`) {
		t.Fatalf("got %q", last)
	}
	c = e.dial()
	c.no(`AUTHENTICATE "PLAIN" "`+plain("alice@example.com", "bob@example.com", "secret")+`"`, `NO "Authentication failed"`)
	c.no(`AUTHENTICATE "CRAM-MD5"`, `NO "Unsupported authentication mechanism"`)
	c = e.dial()
	c.no(`AUTHENTICATE`, `NO "AUTHENTICATE takes`)
	c.no(`AUTHENTICATE "PLAIN" "a" "b"`, `NO "AUTHENTICATE takes`)
}

func TestAuthenticateLogin(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send(`AUTHENTICATE "LOGIN"`)
	if l := c.item(); l != `"`+b64("Username:")+`"` {
		t.Fatalf("challenge %q", l)
	}
	c.send(`"` + b64("bob@example.com") + `"`)
	if l := c.item(); l != `"`+b64("Password:")+`"` {
		t.Fatalf("challenge %q", l)
	}
	c.send(`"` + b64("secret") + `"`)
	if _, last := c.response(); last != `OK "Logged in"` {
		t.Fatalf("got %q", last)
	}

	c = e.dial()
	c.send(`AUTHENTICATE "LOGIN" "` + b64("bob@example.com") + `"`)
	if l := c.item(); l != `"`+b64("Password:")+`"` {
		t.Fatalf("challenge %q", l)
	}
	c.send(`"` + b64("wrong") + `"`)
	if _, last := c.response(); last != `NO "Authentication failed"` {
		t.Fatalf("got %q", last)
	}
}

// auth.allow_cleartext: without TLS the SASL list is empty and PLAIN is
// refused, with ENCRYPT-NEEDED when STARTTLS would help and AUTH-TOO-WEAK
// when nothing would.
func TestCleartextPolicy(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.CleartextAllowed = nil })
	c := e.dial()
	if !hasLine(c.greeting, `"SASL" ""`) {
		t.Fatalf("greeting %q", c.greeting)
	}
	c.no(`AUTHENTICATE "PLAIN" "`+plain("", "bob@example.com", "secret")+`"`, `NO (ENCRYPT-NEEDED)`)
	c.starttls(e)
	c.ok(`AUTHENTICATE "PLAIN" "` + plain("", "bob@example.com", "secret") + `"`)
	c.ok("LISTSCRIPTS")

	e = newTestEnv(t, func(s *Server) { s.CleartextAllowed = nil; s.TLS = nil })
	c = e.dial()
	c.no(`AUTHENTICATE "LOGIN"`, `NO (AUTH-TOO-WEAK)`)
	c.no(`STARTTLS`, `NO "STARTTLS is not available"`)
}

// starttls runs STARTTLS and checks the capabilities sent after it.
func (c *client) starttls(e *testEnv) {
	c.t.Helper()
	c.ok("STARTTLS")
	tc := tls.Client(c.nc, &tls.Config{RootCAs: e.roots, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.nc = tc
	c.r.Reset(tc)
	lines, last := c.response()
	if last != `OK "TLS negotiation successful"` || !hasLine(lines, `"SASL" "PLAIN LOGIN"`) || hasLine(lines, `"STARTTLS"`) {
		c.t.Fatalf("after STARTTLS: %q %q", lines, last)
	}
}

func TestStartTLS(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.starttls(e)
	c.no("STARTTLS", `NO "TLS is already active"`)
	c.ok(`AUTHENTICATE "PLAIN" "` + plain("", "bob@example.com", "secret") + `"`)
	c.ok("NOOP")

	// Not after login, and not with commands sent behind it.
	c = e.login()
	c.no("STARTTLS", `NO "STARTTLS is not allowed after AUTHENTICATE"`)
	c = e.dial()
	c.send("STARTTLS\r\nCAPABILITY")
	if _, last := c.response(); !strings.HasPrefix(last, `NO "Commands sent after STARTTLS`) {
		t.Fatalf("got %q", last)
	}
	if _, last := c.response(); last != `OK "Capability completed"` { // the session goes on in cleartext
		t.Fatalf("CAPABILITY after refused STARTTLS: %q", last)
	}
	c.no("STARTTLS extra", `NO "STARTTLS takes no arguments"`)
}

func TestScripts(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	ctx := context.Background()
	script := "require \"fileinto\";\r\nif header :contains \"subject\" \"x\" { fileinto \"Junk\"; }\r\n"

	if got := c.ok("LISTSCRIPTS"); len(got) != 0 {
		t.Fatalf("LISTSCRIPTS on nothing: %q", got)
	}
	c.ok(`PUTSCRIPT "main" ` + literal(script))
	c.ok(`PUTSCRIPT "quoted \"name\"" "keep;"`)
	c.ok("PUTSCRIPT \"sync\" {5}\r\nkeep;") // {N} is read like {N+}
	c.ok(`PUTSCRIPT "päß" ` + literal("keep;"))
	if got := c.ok("LISTSCRIPTS"); strings.Join(got, "|") != `"main"|"päß"|"quoted \"name\""|"sync"` {
		t.Fatalf("LISTSCRIPTS %q", got)
	}
	if got := c.ok(`GETSCRIPT "main"`); len(got) != 1 || got[0] != script {
		t.Fatalf("GETSCRIPT %q", got)
	}
	c.no(`GETSCRIPT "none"`, `NO (NONEXISTENT)`)

	// Activation.
	c.ok(`SETACTIVE "main"`)
	if got := c.ok("LISTSCRIPTS"); !hasLine(got, `"main" ACTIVE`) || !hasLine(got, `"sync"`) {
		t.Fatalf("LISTSCRIPTS %q", got)
	}
	c.no(`SETACTIVE "none"`, `NO (NONEXISTENT)`)
	c.no(`DELETESCRIPT "main"`, `NO (ACTIVE)`)
	c.ok(`SETACTIVE "sync"`)
	if act, err := e.store.ActiveSieveScript(ctx, e.acct); err != nil || act.Name != "sync" {
		t.Fatalf("active %v %v", act, err)
	}
	c.ok(`SETACTIVE ""`)
	if _, err := e.store.ActiveSieveScript(ctx, e.acct); err == nil {
		t.Fatal(`SETACTIVE "" left a script active`)
	}

	// Rename keeps the active flag.
	c.ok(`SETACTIVE "main"`)
	c.ok(`RENAMESCRIPT "main" "filter"`)
	if got := c.ok("LISTSCRIPTS"); !hasLine(got, `"filter" ACTIVE`) {
		t.Fatalf("LISTSCRIPTS after rename %q", got)
	}
	c.no(`RENAMESCRIPT "none" "other"`, `NO (NONEXISTENT)`)
	c.no(`RENAMESCRIPT "filter" "sync"`, `NO (ALREADYEXISTS)`)
	c.no(`RENAMESCRIPT "filter" "filter"`, `NO (ALREADYEXISTS)`)
	c.no(`RENAMESCRIPT "none" "none"`, `NO (NONEXISTENT)`)
	c.no(`RENAMESCRIPT "filter" "bad`+"\x01"+`name"`, `NO "Invalid script name"`)
	c.no(`RENAMESCRIPT "filter"`, `NO "RENAMESCRIPT takes`)

	// Delete.
	c.ok(`DELETESCRIPT "sync"`)
	c.no(`DELETESCRIPT "sync"`, `NO (NONEXISTENT)`)
	c.no(`DELETESCRIPT`, `NO "DELETESCRIPT takes`)

	// Replacing the active script keeps it active with the new content.
	c.ok(`PUTSCRIPT "filter" "discard;"`)
	if act, err := e.store.ActiveSieveScript(ctx, e.acct); err != nil || act.Content != "discard;" {
		t.Fatalf("active %+v %v", act, err)
	}
	c.no(`PUTSCRIPT "" "keep;"`, `NO "Invalid script name"`)
	c.no(`PUTSCRIPT "x"`, `NO "PUTSCRIPT takes`)
}

// A script that does not compile is refused with the compiler's message;
// one with warnings is stored with OK (WARNINGS).
func TestCompile(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	c.no(`PUTSCRIPT "bad" `+literal("keep;\r\n  error;\r\n"), `NO "bad:2:3: unknown command \"error\""`)
	if _, err := e.store.SieveScript(context.Background(), e.acct, "bad"); err == nil {
		t.Fatal("a script that does not compile was stored")
	}
	c.no(`CHECKSCRIPT `+literal("error"), `NO ":1:1: unknown command \"error\""`)
	c.ok(`CHECKSCRIPT "keep;"`)
	c.send(`CHECKSCRIPT "warn"`)
	if _, last := c.response(); last != `OK (WARNINGS) "line 1: redirect limit is 4"` {
		t.Fatalf("CHECKSCRIPT warn: %q", last)
	}
	c.send(`PUTSCRIPT "w" "warn"`)
	if _, last := c.response(); last != `OK (WARNINGS) "line 1: redirect limit is 4"` {
		t.Fatalf("PUTSCRIPT warn: %q", last)
	}
	c.no(`CHECKSCRIPT`, `NO "CHECKSCRIPT takes`)

	// A message with a line break goes as a literal.
	e.srv.Compile = func(string, []byte) (string, error) { return "", errString("line 1: one\nline 2: two") }
	c.send(`CHECKSCRIPT "x"`)
	if _, last := c.response(); last != "NO line 1: one\nline 2: two" {
		t.Fatalf("multi-line message: %q", last)
	}

	// SETACTIVE compiles the stored script again.
	if err := e.store.PutSieveScript(context.Background(), e.acct, "old", "error"); err != nil {
		t.Fatal(err)
	}
	e.srv.Compile = fakeCompile
	c.no(`SETACTIVE "old"`, `NO "old:1:1: unknown command`)
}

type errString string

func (e errString) Error() string { return string(e) }

func TestQuota(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.MaxScripts, s.MaxScriptSize = 2, 100 })
	c := e.login()
	c.ok(`HAVESPACE "a" 100`)
	c.no(`HAVESPACE "a" 101`, `NO (QUOTA/MAXSIZE)`)
	c.no(`HAVESPACE "a" 4294967296`, `NO "HAVESPACE: the size must be`)
	c.no(`HAVESPACE "a" "10"`, `NO "HAVESPACE takes`)
	c.no(`HAVESPACE "a" -1`, `NO "HAVESPACE: the size must be`)
	c.ok(`PUTSCRIPT "a" "keep;"`)
	c.ok(`PUTSCRIPT "b" "keep;"`)
	c.no(`HAVESPACE "c" 10`, `NO (QUOTA/MAXSCRIPTS)`)
	c.ok(`HAVESPACE "b" 10`) // replacing is not a new script
	c.no(`PUTSCRIPT "c" "keep;"`, `NO (QUOTA/MAXSCRIPTS)`)
	c.ok(`PUTSCRIPT "b" "discard;"`)

	// Too big: refused, read to its end, and the session goes on.
	big := strings.Repeat("#", 101)
	c.no(`PUTSCRIPT "b" `+literal(big), `NO (QUOTA/MAXSIZE)`)
	c.no(`CHECKSCRIPT `+literal(big), `NO (QUOTA/MAXSIZE)`)
	// Past the command's whole budget, the literal is skipped unread.
	huge := strings.Repeat("#", 300000)
	c.no(`PUTSCRIPT "b" `+literal(huge), `NO (QUOTA/MAXSIZE)`)
	c.no(`GETSCRIPT `+literal(huge), `NO "String too long`)
	c.ok("NOOP")
	c.ok(`DELETESCRIPT "a"`)
	c.ok(`PUTSCRIPT "c" "keep;"`)
}

func TestNoopTag(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	c.send(`NOOP "STARTTLS-SYNC-42"`)
	if _, last := c.response(); last != `OK (TAG "STARTTLS-SYNC-42") "Done"` {
		t.Fatalf("got %q", last)
	}
	c.send("NOOP " + literal("a\r\nb"))
	if _, last := c.response(); last != "OK (TAG a\r\nb) \"Done\"" {
		t.Fatalf("got %q", last)
	}
	c.send("NOOP")
	if _, last := c.response(); last != `OK "Done"` {
		t.Fatalf("got %q", last)
	}
	c.no(`NOOP "a" "b"`, `NO "NOOP takes`)
}

func TestUnauthenticate(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	c.ok(`PUTSCRIPT "a" "keep;"`)
	c.ok("UNAUTHENTICATE")
	c.no("LISTSCRIPTS", `NO "LISTSCRIPTS needs AUTHENTICATE first"`)
	c.no("UNAUTHENTICATE", `NO "UNAUTHENTICATE needs AUTHENTICATE first"`)
	if got := c.ok("CAPABILITY"); hasLine(got, `"OWNER" "bob@example.com"`) {
		t.Fatalf("OWNER after UNAUTHENTICATE: %q", got)
	}
	c.ok(`AUTHENTICATE "PLAIN" "` + plain("", "bob@example.com", "secret") + `"`)
	if got := c.ok("LISTSCRIPTS"); !hasLine(got, `"a"`) {
		t.Fatalf("LISTSCRIPTS %q", got)
	}
}

func TestLogout(t *testing.T) {
	e := newTestEnv(t)
	c := e.login()
	c.send("LOGOUT")
	if _, last := c.response(); last != `OK "Logout completed"` {
		t.Fatalf("got %q", last)
	}
	c.closed()
}

// Every command that needs a login is refused before it, and the session
// ends after a few such errors.
func TestUnauthenticatedCommands(t *testing.T) {
	e := newTestEnv(t)
	for _, cmd := range []string{
		`HAVESPACE "a" 1`, `PUTSCRIPT "a" "keep;"`, `LISTSCRIPTS`, `SETACTIVE "a"`, `GETSCRIPT "a"`,
		`DELETESCRIPT "a"`, `RENAMESCRIPT "a" "b"`, `CHECKSCRIPT "keep;"`, `UNAUTHENTICATE`,
	} {
		c := e.dial()
		name, _, _ := strings.Cut(cmd, " ")
		c.no(cmd, `NO "`+name+` needs AUTHENTICATE first"`)
	}
	c := e.dial()
	c.no("LISTSCRIPTS", "NO")
	c.no("LISTSCRIPTS", "NO")
	c.send("LISTSCRIPTS")
	c.response()
	c.bye(`BYE "Too many errors"`)
	if n := len(mustScripts(t, e)); n != 0 {
		t.Fatalf("%d scripts stored", n)
	}
}

func mustScripts(t *testing.T, e *testEnv) []storage.SieveScript {
	t.Helper()
	l, err := e.store.SieveScripts(context.Background(), e.acct)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestMaxConnsPerIP(t *testing.T) {
	e := newTestEnv(t, func(s *Server) { s.MaxConnsPerIP = 1 })
	c := e.dial()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	second := &client{t: t, nc: nc, r: newReader(nc)}
	second.bye(`BYE (TRYLATER) "Too many connections`)
	c.ok("NOOP")
}
