package sieve

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"letterbox/message"
)

// BenchmarkFiftyRules runs the 50-rule script of scripts/bench-sieve.sh on a
// 10 KB message that no rule matches (every rule runs). As at delivery,
// the MIME structure comes from the parse storage made (SetStructure).
func BenchmarkFiftyRules(b *testing.B) {
	src, err := os.ReadFile("../testdata/sieve/bench/50-rules.sieve")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Compile("r", src, nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("From: bench@example.org\r\nTo: u1@example.com\r\nSubject: bench message\r\nMessage-ID: <x@y>\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\n" + strings.Repeat("0123456789 abcdefghij klmnopqrstuvwxyz 0123456789 abcdefgh\r\n", 160))
	parsed, err := message.Parse(bytes.NewReader(msg))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, _ := ParseMessage(msg)
		m.SetStructure(parsed)
		res := s.Run(context.Background(), &Input{Message: m, Envelope: Envelope{From: "a@b.c", To: "u1@example.com"}})
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}
