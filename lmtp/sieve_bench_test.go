package lmtp

import (
	"context"
	"os"
	"strings"
	"testing"
)

// BenchmarkDeliverSieve delivers a 10 KB message to a user without a
// script and to one with the 50-rule script of scripts/bench-sieve.sh,
// through the pipeline (no sockets): the difference is what Sieve costs a
// delivery.
func BenchmarkDeliverSieve(b *testing.B) {
	src, err := os.ReadFile("../testdata/sieve/bench/50-rules.sieve")
	if err != nil {
		b.Fatal(err)
	}
	for _, withScript := range []bool{false, true} {
		name := "none"
		scripts := map[string]string{}
		if withScript {
			name = "50-rules"
			scripts["bob"] = string(src)
		}
		b.Run(name, func(b *testing.B) {
			e, _ := sieveEnv(b, false, nil, scripts)
			d := e.srv.Deliverer()
			ctx := context.Background()
			rc, rerr := d.Resolve(ctx, "bob@example.com", 0)
			if rerr != nil {
				b.Fatal(rerr)
			}
			msg := "From: bench@example.org\r\nTo: bob@example.com\r\nSubject: bench message\r\nMessage-ID: <x@y>\r\n\r\n" +
				strings.Repeat("0123456789 abcdefghij klmnopqrstuvwxyz 0123456789 abcdefgh\r\n", 160)
			b.ReportAllocs()
			for b.Loop() {
				env := &Envelope{ID: NewID(), From: "bench@example.org", Recipients: []*Recipient{rc}, Protocol: "LMTP"}
				res := d.Deliver(ctx, env, strings.NewReader(msg))
				if res[0].Reply.Code != 250 {
					b.Fatal(res[0].Reply)
				}
			}
		})
	}
}
