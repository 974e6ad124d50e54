package sieve

import (
	"context"
	"strings"
	"testing"
)

// TestPooledContentDoesNotLeak: part contents and folded values live in
// buffers that the next run reuses; what a script keeps from them (here
// extracttext into a mailbox name) must stay as it was.
func TestPooledContentDoesNotLeak(t *testing.T) {
	src := `require ["mime", "foreverypart", "extracttext", "variables", "fileinto", "body"];
if body :text :contains "never-there" { discard; }
foreverypart { extracttext :first 5 "t"; fileinto "${t}"; }`
	s, err := Compile("leak", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(body string) string {
		m, err := ParseMessage([]byte("Subject: x\r\nContent-Type: text/plain\r\n\r\n" + body))
		if err != nil {
			t.Fatal(err)
		}
		res := s.Run(context.Background(), &Input{Message: m})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		for _, a := range res.Actions {
			if f, ok := a.(*FileInto); ok {
				return f.Mailbox
			}
		}
		t.Fatalf("no fileinto in %v", res.Actions)
		return ""
	}
	first := run("alpha" + strings.Repeat(" filler text", 200))
	second := run("omega" + strings.Repeat(" other words", 200))
	if first != "alpha" || second != "omega" {
		t.Fatalf("mailboxes %q and %q, want alpha and omega", first, second)
	}
	run("zzzzz" + strings.Repeat(" more", 300))
	if first != "alpha" || second != "omega" {
		t.Fatalf("after another run: %q and %q", first, second)
	}
}
