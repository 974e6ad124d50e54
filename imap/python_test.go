package imap

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImaplib runs a session with Python's imaplib, a plain IMAP4rev1 client.
func TestImaplib(t *testing.T) {
	py := needProgram(t, "python3", "python3")
	e := newTestEnv(t)
	host, port, _ := strings.Cut(e.addr, ":")
	out, err := exec.Command(py, "../testdata/imap/imaplib_session.py", host, port).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("imaplib session: %v\n%s", err, out)
	}
}
