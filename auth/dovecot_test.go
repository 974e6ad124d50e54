package auth

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDovecotVerifiesHashPassword asks Dovecot itself (`doveadm pw -t`)
// whether it accepts what HashPassword writes, and rejects a wrong password.
// It needs doveadm (Debian package dovecot-core) and skips without it.
//
// With LETTERBOX_WRITE_DOVECOT_VERIFIED=1 it also rewrites
// testdata/auth/dovecot-verified.txt with the hashes Dovecot accepted, so
// that TestVectors keeps checking them on machines without Dovecot.
func TestDovecotVerifiesHashPassword(t *testing.T) {
	doveadm, err := exec.LookPath("doveadm")
	if err != nil {
		t.Skip("doveadm not installed (apt-get install dovecot-core); skipping the check against Dovecot")
	}
	version := "unknown"
	if out, err := exec.Command("dovecot", "--version").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	passwords := []string{"secret", "pässwörd", "correct horse battery staple", `P@ss w0rd!{}:$%`}
	var lines []string
	for _, pw := range passwords {
		h, err := HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(doveadm, "pw", "-t", h, "-p", pw).CombinedOutput()
		if err != nil {
			t.Fatalf("Dovecot %s rejects our hash for password #%d: %v: %s", version, len(lines), err, out)
		}
		if !strings.Contains(string(out), "verified") {
			t.Fatalf("doveadm pw -t: unexpected output %q", out)
		}
		if out, err := exec.Command(doveadm, "pw", "-t", h, "-p", "wrong-"+pw).CombinedOutput(); err == nil {
			t.Fatalf("Dovecot accepts a wrong password for our hash: %s", out)
		}
		lines = append(lines, fmt.Sprintf("letterbox:ARGON2ID\t%s\t%s", pw, h))
	}
	t.Logf("Dovecot %s verified %d hashes written by HashPassword", version, len(lines))

	if os.Getenv("LETTERBOX_WRITE_DOVECOT_VERIFIED") == "1" {
		content := "# Hashes written by auth.HashPassword and verified by Dovecot " + version + "\n" +
			"# with `doveadm pw -t HASH -p PASSWORD` (which also rejected \"wrong-\"+PASSWORD).\n" +
			"# Regenerate: LETTERBOX_WRITE_DOVECOT_VERIFIED=1 go test -run TestDovecotVerifiesHashPassword ./auth/\n" +
			"# Format: LABEL<TAB>PASSWORD<TAB>STORED-HASH\n" +
			strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(testdataDir, "dovecot-verified.txt"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
