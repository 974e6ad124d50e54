package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"letterbox/sieve"
)

// TestServeManageSieve runs the whole server: its SIEVE capability is the
// compiler's extension list, a script the real compiler refuses gets its
// message with line and column, and a good one is stored and activated.
func TestServeManageSieve(t *testing.T) {
	dir := lmtpSetup(t, "bob@example.com")
	addrs, _ := serveWithConfig(t, dir, `
[imap]
listen = ""
[pop3]
listen = ""
[lmtp]
listen = ""
[managesieve]
listen = "127.0.0.1:0"
max_scripts = 2
max_script_size = 1000
`)
	if len(addrs["managesieve"]) == 0 {
		t.Fatalf("no managesieve listener: %v", addrs)
	}
	nc, err := net.Dial("tcp", addrs["managesieve"][0])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(nc)
	// reply reads up to the OK, NO or BYE line and returns every line.
	reply := func() []string {
		t.Helper()
		var lines []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v after %q", err, lines)
			}
			l = strings.TrimSuffix(l, "\r\n")
			if n := strings.LastIndexByte(l, '{'); n >= 0 && strings.HasSuffix(l, "}") {
				size, err := strconv.Atoi(l[n+1 : len(l)-1])
				if err == nil {
					buf := make([]byte, size)
					if _, err := io.ReadFull(r, buf); err != nil {
						t.Fatal(err)
					}
					rest, _ := r.ReadString('\n')
					l = l[:n] + string(buf) + strings.TrimSuffix(rest, "\r\n")
				}
			}
			lines = append(lines, l)
			if strings.HasPrefix(l, "OK") || strings.HasPrefix(l, "NO") || strings.HasPrefix(l, "BYE") {
				return lines
			}
		}
	}
	cmd := func(c string) []string {
		t.Helper()
		if _, err := nc.Write([]byte(c + "\r\n")); err != nil {
			t.Fatal(err)
		}
		return reply()
	}
	greeting := reply()
	wantSieve := `"SIEVE" "` + strings.Join(sieve.Extensions(nil), " ") + `"`
	if !strings.Contains(strings.Join(greeting, "\n"), wantSieve) {
		t.Fatalf("greeting %q lacks %s", greeting, wantSieve)
	}
	if got := cmd(`AUTHENTICATE "PLAIN" "` + base64.StdEncoding.EncodeToString([]byte("\x00bob@example.com\x00pw")) + `"`); got[0] != `OK "Logged in"` {
		t.Fatalf("login: %q", got)
	}
	bad := "require \"fileinto\";\r\nif true {\r\n  frobnicate;\r\n}\r\n"
	got := cmd(`PUTSCRIPT "bad" {` + strconv.Itoa(len(bad)) + "+}\r\n" + bad)
	if !strings.HasPrefix(got[0], "NO ") || !strings.Contains(got[0], "bad:3:3") {
		t.Fatalf("bad script: %q", got)
	}
	good := "require \"fileinto\";\r\nif header :contains \"subject\" \"[list]\" {\r\n  fileinto \"Lists\";\r\n}\r\n"
	if got := cmd(`PUTSCRIPT "good" {` + strconv.Itoa(len(good)) + "+}\r\n" + good); got[0] != `OK "Script stored"` {
		t.Fatalf("good script: %q", got)
	}
	if got := cmd(`SETACTIVE "good"`); got[0] != `OK "Active script set"` {
		t.Fatalf("SETACTIVE: %q", got)
	}
	if got := cmd(`HAVESPACE "other" 1001`); !strings.HasPrefix(got[0], "NO (QUOTA/MAXSIZE)") {
		t.Fatalf("HAVESPACE over max_script_size: %q", got)
	}
	cmd(`PUTSCRIPT "two" "keep;"`)
	if got := cmd(`PUTSCRIPT "three" "keep;"`); !strings.HasPrefix(got[0], "NO (QUOTA/MAXSCRIPTS)") {
		t.Fatalf("PUTSCRIPT over max_scripts: %q", got)
	}
	if got := cmd("LISTSCRIPTS"); strings.Join(got, "|") != `"good" ACTIVE|"two"|OK "Listscripts completed"` {
		t.Fatalf("LISTSCRIPTS: %q", got)
	}
	cmd("LOGOUT")
	if r := lb(t, dir, "", "sieve", "get", "bob@example.com", "good"); r.code != 0 || r.stdout != good {
		t.Fatalf("sieve get: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
