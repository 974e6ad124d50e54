package sieve

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/rand/v2"
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
	hdr := "From: bench@example.org\r\nTo: u1@example.com\r\nSubject: bench message\r\nMessage-ID: <x@y>\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\n"
	// Two bodies: lines of words and digits, and base64 lines as
	// `letterbox bench lmtp` sends (no spaces, every letter in both cases).
	raw := make([]byte, 7500)
	rand.NewChaCha8([32]byte{'s'}).Read(raw)
	var b64 strings.Builder
	for enc := base64.StdEncoding.EncodeToString(raw); len(enc) > 0; enc = enc[min(76, len(enc)):] {
		b64.WriteString(enc[:min(76, len(enc))] + "\r\n")
	}
	for _, body := range []struct{ name, text string }{
		{"text", strings.Repeat("0123456789 abcdefghij klmnopqrstuvwxyz 0123456789 abcdefgh\r\n", 160)},
		{"base64", b64.String()},
	} {
		b.Run(body.name, func(b *testing.B) {
			msg := []byte(hdr + body.text)
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
		})
	}
}
