package imap

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Real clients from Debian's packages (installed by .ci/run); each test
// skips when its program is absent.

func needProgram(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s): skipping", name, pkg)
	}
	return p
}

// countMaildir counts the messages of a Maildir folder and returns their bytes.
func readMaildir(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, sub := range []string{"cur", "new"} {
		files, _ := filepath.Glob(filepath.Join(dir, sub, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// mbsync syncs a mailbox to a local Maildir and back, twice, with nothing
// duplicated or lost.
func TestMbsync(t *testing.T) {
	mbsync := needProgram(t, "mbsync", "isync")
	e := newTestEnv(t)
	for i := 0; i < 20; i++ {
		e.appendMsg("INBOX", fmt.Sprintf("From: a@example.org\r\nSubject: inbox %d\r\nMessage-ID: <i%d@x>\r\n\r\nbody %d\r\n", i, i, i))
	}
	for i := 0; i < 5; i++ {
		e.appendMsg("Archive", fmt.Sprintf("Subject: archived %d\r\nMessage-ID: <a%d@x>\r\n\r\nold %d\r\n", i, i, i), `\Seen`)
	}
	dir := t.TempDir()
	local := filepath.Join(dir, "mail")
	os.MkdirAll(local, 0o700)
	host, port, _ := strings.Cut(e.addr, ":")
	conf := fmt.Sprintf(`IMAPAccount lb
Host %s
Port %s
User bob@example.com
Pass secret
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account lb

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel lb
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
`, host, port, local, local)
	confPath := filepath.Join(dir, "mbsyncrc")
	os.WriteFile(confPath, []byte(conf), 0o600)
	run := func() {
		t.Helper()
		cmd := exec.Command(mbsync, "-c", confPath, "-a")
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mbsync: %v\n%s", err, out)
		}
	}
	check := func(inbox, archive int) {
		t.Helper()
		if n := len(readMaildir(t, filepath.Join(local, "INBOX"))); n != inbox {
			t.Fatalf("local INBOX has %d messages, want %d", n, inbox)
		}
		if n := len(readMaildir(t, filepath.Join(local, "Archive"))); n != archive {
			t.Fatalf("local Archive has %d messages, want %d", n, archive)
		}
		for name, want := range map[string]int{"INBOX": inbox, "Archive": archive} {
			mb, err := e.store.Mailbox(t.Context(), e.acct, name)
			if err != nil {
				t.Fatal(err)
			}
			if int(mb.Messages) != want {
				t.Fatalf("server %s has %d messages, want %d", name, mb.Messages, want)
			}
		}
	}
	run()
	check(20, 5)
	run()
	check(20, 5)
	// Bytes arrive intact.
	found := false
	for _, b := range readMaildir(t, filepath.Join(local, "INBOX")) {
		if bytes.Contains(b, []byte("Subject: inbox 7\r\n")) || bytes.Contains(b, []byte("Subject: inbox 7\n")) {
			found = true
			if !bytes.Contains(b, []byte("body 7")) {
				t.Fatalf("message 7 lost its body: %q", b)
			}
		}
	}
	if !found {
		t.Fatal("message 7 not synced")
	}
	// A message written locally goes up, once.
	os.WriteFile(filepath.Join(local, "INBOX", "new", "1700000000.local1.host"), []byte("Subject: from local\nMessage-ID: <l1@x>\n\nhello\n"), 0o600)
	run()
	check(21, 5)
	run()
	check(21, 5)
}

// curl lists mailboxes and fetches a message over imap://.
func TestCurl(t *testing.T) {
	curl := needProgram(t, "curl", "curl")
	e := newTestEnv(t)
	msg := "From: a@example.org\r\nSubject: curl me\r\n\r\nhello curl\r\n"
	e.appendMsg("INBOX", msg)
	out, err := exec.Command(curl, "-s", "-S", "--user", "bob@example.com:secret", "imap://"+e.addr+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("curl list: %v %s", err, out)
	}
	if !strings.Contains(string(out), "INBOX") || !strings.Contains(string(out), "Archive") {
		t.Fatalf("curl list: %s", out)
	}
	out, err = exec.Command(curl, "-s", "-S", "--user", "bob@example.com:secret", "imap://"+e.addr+"/INBOX;UID=1").CombinedOutput()
	if err != nil {
		t.Fatalf("curl fetch: %v %s", err, out)
	}
	if string(out) != msg {
		t.Fatalf("curl fetched %q, want %q", out, msg)
	}
}
