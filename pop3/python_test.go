package pop3

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// needProgram skips a test whose outside program is not installed.
func needProgram(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s): skipping", name, pkg)
	}
	return p
}

type poplibResult struct {
	Welcome   string   `json:"welcome"`
	CapaPlain []string `json:"capa_before_tls"`
	Capa      []string `json:"capa"`
	Stat      []int64  `json:"stat"`
	List      []string `json:"list"`
	UIDL      []string `json:"uidl"`
	Messages  []string `json:"messages"`
	Top       string   `json:"top"`
	Quit      string   `json:"quit"`
}

// TestPoplib runs a whole session with Python's poplib over cleartext,
// APOP, STLS and implicit TLS, and compares every answer with storage.
func TestPoplib(t *testing.T) {
	py := needProgram(t, "python3", "python3")
	for _, mode := range []string{"plain", "apop", "stls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			e := newTestEnv(t)
			if mode == "stls" || mode == "tls" {
				// Over TLS only: proves the TLS paths are what let it in.
				e = newTestEnv(t, func(s *Server) { s.CleartextAllowed = nil })
			}
			contents := []string{msg1, msg2, "Subject: 3\r\n\r\n.\r\n..\r\n.x\r\n"}
			for _, m := range contents {
				e.deliver(m)
			}
			addr := e.addr
			if mode == "tls" {
				addr = e.tlsAddr
			}
			host, port, _ := strings.Cut(addr, ":")
			out, err := exec.Command(py, "../testdata/pop3/poplib_session.py", host, port, mode, e.certFile).CombinedOutput()
			if err != nil {
				t.Fatalf("poplib: %v\n%s", err, out)
			}
			var r poplibResult
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("poplib output: %v\n%s", err, out)
			}
			var total int64
			for _, m := range contents {
				total += int64(len(m))
			}
			if fmt.Sprint(r.Stat) != fmt.Sprint([]int64{3, total}) {
				t.Errorf("STAT %v, want [3 %d]", r.Stat, total)
			}
			for i, m := range contents {
				if want := fmt.Sprintf("%d %d", i+1, len(m)); r.List[i] != want {
					t.Errorf("LIST %q, want %q", r.List[i], want)
				}
				got, _ := base64.StdEncoding.DecodeString(r.Messages[i])
				if string(got) != m {
					t.Errorf("RETR %d = %q, want %q", i+1, got, m)
				}
			}
			if len(r.UIDL) != 3 || !strings.HasPrefix(r.UIDL[0], "1 ") {
				t.Errorf("UIDL %q", r.UIDL)
			}
			if top, _ := base64.StdEncoding.DecodeString(r.Top); string(top) != "From: a@example.org\r\nSubject: one\r\n\r\n" {
				t.Errorf("TOP 1 0 = %q", top)
			}
			capa := strings.Join(r.Capa, " ")
			for _, want := range []string{"TOP", "UIDL", "USER", "SASL", "RESP-CODES", "PIPELINING", "IMPLEMENTATION"} {
				if !strings.Contains(capa, want) {
					t.Errorf("CAPA lacks %s: %v", want, r.Capa)
				}
			}
			if mode == "stls" && (!strings.Contains(strings.Join(r.CapaPlain, " "), "STLS") || strings.Contains(capa, "STLS")) {
				t.Errorf("CAPA before TLS %v, after %v", r.CapaPlain, r.Capa)
			}
			if !strings.HasPrefix(r.Quit, "+OK") {
				t.Errorf("QUIT %q", r.Quit)
			}
			if n := len(e.messages()); n != 2 {
				t.Errorf("%d messages after DELE 3 and QUIT, want 2", n)
			}
		})
	}
}
