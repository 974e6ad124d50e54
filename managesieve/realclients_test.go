package managesieve

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sieveConnect runs the real sieve-connect (Debian package sieve-connect)
// against e over STARTTLS, trusting e's certificate, with the password on
// stdin, logging in with SASL mech. It returns the combined output and whether it exited 0.
func sieveConnect(t *testing.T, e *testEnv, mech string, args ...string) (string, bool) {
	t.Helper()
	host, port, _ := net.SplitHostPort(e.addr)
	base := []string{
		"--server", host, "--port", port, "--nosrv",
		"--tlscafile", e.certFile, "--tlshostname", "localhost",
		"--user", "bob@example.com", "--passwordfd", "0", "--authmech", mech,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sieve-connect", append(base, args...)...)
	cmd.Stdin = strings.NewReader("secret\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("sieve-connect %v timed out: %s", args, out.String())
	}
	return out.String(), err == nil
}

// TestSieveConnect drives the whole life of a script with sieve-connect:
// upload, list, activate, download, deactivate, delete, and a refused
// upload with the compiler's message.
func TestSieveConnect(t *testing.T) {
	if _, err := exec.LookPath("sieve-connect"); err != nil {
		t.Skip("sieve-connect not installed (Debian package sieve-connect); skipping the real-client test")
	}
	// Cleartext logins refused: sieve-connect must use STARTTLS.
	e := newTestEnv(t, func(s *Server) { s.CleartextAllowed = nil })
	dir := t.TempDir()
	script := "require [\"fileinto\"];\r\nif header :contains \"List-Id\" \"golang\" {\r\n  fileinto \"Lists\";\r\n}\r\n"
	local := filepath.Join(dir, "filter.sieve")
	if err := os.WriteFile(local, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		out, ok := sieveConnect(t, e, "PLAIN", args...)
		if !ok {
			t.Fatalf("sieve-connect %v failed:\n%s", args, out)
		}
		return out
	}

	run("--upload", "--localsieve", local, "--remotesieve", "main")
	if out := run("--list"); !strings.Contains(out, "main") || strings.Contains(out, "ACTIVE") {
		t.Fatalf("list after upload:\n%s", out)
	}
	run("--activate", "--remotesieve", "main")
	if out := run("--list"); !strings.Contains(out, "main") || !strings.Contains(strings.ToLower(out), "active") {
		t.Fatalf("list after activate:\n%s", out)
	}
	got := filepath.Join(dir, "got.sieve")
	run("--download", "--remotesieve", "main", "--localsieve", got)
	if b, err := os.ReadFile(got); err != nil || string(b) != script {
		t.Fatalf("downloaded %q (%v), want %q", b, err, script)
	}
	if out, ok := sieveConnect(t, e, "PLAIN", "--delete", "--remotesieve", "main"); ok {
		t.Fatalf("deleting the active script succeeded:\n%s", out)
	}
	run("--deactivate")
	run("--delete", "--remotesieve", "main")
	if out := run("--list"); strings.Contains(out, "main") {
		t.Fatalf("list after delete:\n%s", out)
	}
	// LOGIN, which sieve-connect answers with literals.
	if out, ok := sieveConnect(t, e, "LOGIN", "--list"); !ok {
		t.Fatalf("list with LOGIN:\n%s", out)
	}

	bad := filepath.Join(dir, "bad.sieve")
	if err := os.WriteFile(bad, []byte("keep;\r\nerror;\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, ok := sieveConnect(t, e, "PLAIN", "--upload", "--localsieve", bad, "--remotesieve", "bad")
	if ok || !strings.Contains(out, "bad:2:1: unknown command") {
		t.Fatalf("upload of a bad script: ok=%v\n%s", ok, out)
	}
	out, ok = sieveConnect(t, e, "PLAIN", "--checkscript", "--localsieve", bad)
	if ok || !strings.Contains(out, ":2:1: unknown command") {
		t.Fatalf("checkscript of a bad script: ok=%v\n%s", ok, out)
	}
	if l := mustScripts(t, e); len(l) != 0 {
		t.Fatalf("scripts left: %+v", l)
	}
}
