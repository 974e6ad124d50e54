package managesieve

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// BenchmarkParsePutScript parses PUTSCRIPT commands carrying a 16 KiB
// script literal.
func BenchmarkParsePutScript(b *testing.B) {
	script := strings.Repeat("if header :contains \"subject\" \"x\" { fileinto \"Junk\"; }\r\n", 300)
	cmd := []byte(`PUTSCRIPT "main" ` + literal(script) + "\r\n")
	b.SetBytes(int64(len(cmd)))
	r := bytes.NewReader(cmd)
	p := parser{br: bufio.NewReader(r), maxLine: defaultMaxLine}
	for b.Loop() {
		r.Reset(cmd)
		p.br.Reset(r)
		if _, err := p.readArgs(1 << 20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutGetScript stores and reads back a script over a logged-in
// session on loopback, SQLite underneath: one PUTSCRIPT and one GETSCRIPT
// per iteration.
func BenchmarkPutGetScript(b *testing.B) {
	e := newTestEnv(b)
	c := e.login()
	put := `PUTSCRIPT "main" ` + literal("require \"fileinto\";\r\nfileinto \"Junk\";\r\n")
	for b.Loop() {
		c.ok(put)
		c.ok(`GETSCRIPT "main"`)
	}
}
