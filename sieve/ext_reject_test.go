package sieve

import (
	"context"
	"strings"
	"testing"
)

func TestRejectRFCExamples(t *testing.T) {
	big := testMsg + strings.Repeat("x", 200<<10) + "\n"
	// RFC 5429 section 2.1.
	res := run(t, `require ["reject"];
if size :over 100K {
   reject text:
Your message is too big.  If you want to send me a big attachment,
put it on a public web site and send me a URL.
.
;
}`, big, Envelope{From: "a@example.org", To: "b@example.com"})
	if res.Err != nil || res.ImplicitKeep || len(res.Actions) != 1 {
		t.Fatalf("%+v", res)
	}
	r := res.Actions[0].(*Reject)
	if r.Extended || !strings.HasPrefix(r.Reason, "Your message is too big.") || !strings.HasSuffix(r.Reason, "a URL.\r\n") {
		t.Errorf("%+v", r)
	}
	// RFC 5429 section 2.2.
	res = run(t, `require ["ereject"];
if address :contains "from" "example.com" {
   ereject "I no longer accept mail from this domain";
}`, testMsg, Envelope{})
	if res.Err != nil || res.ImplicitKeep {
		t.Fatalf("%+v", res)
	}
	if r := res.Actions[0].(*Reject); !r.Extended || r.Reason != "I no longer accept mail from this domain" {
		t.Errorf("%+v", r)
	}
}

func TestRejectConflicts(t *testing.T) {
	// RFC 5429 section 2.3: reject is incompatible with what delivers or
	// answers the message, and with a second reject; discard is fine.
	for _, c := range []struct {
		script string
		fails  bool
	}{
		{`require "reject"; reject "a"; keep;`, true},
		{`require "reject"; keep; reject "a";`, true},
		{`require ["reject","fileinto"]; fileinto "X"; reject "a";`, true},
		{`require ["reject","fileinto","copy"]; fileinto :copy "X"; reject "a";`, true},
		{`require "reject"; redirect "x@example.org"; reject "a";`, true},
		{`require "reject"; reject "a"; reject "b";`, true},
		{`require ["reject","ereject"]; ereject "a"; reject "b";`, true},
		{`require "reject"; discard; reject "a";`, false},
		{`require "reject"; reject "a"; discard;`, false},
		{`require "reject"; reject "a"; stop; keep;`, false},
	} {
		res := run(t, c.script, testMsg, Envelope{From: "a@example.org", To: "b@example.com"})
		if (res.Err != nil) != c.fails {
			t.Errorf("%s: err %v", c.script, res.Err)
		}
		if res.Err != nil && (len(res.Actions) != 0 || !res.ImplicitKeep) {
			t.Errorf("%s: a failed run must keep: %+v", c.script, res)
		}
	}
	if _, err := Compile("t", []byte(`reject "a";`), nil); err == nil {
		t.Error("reject without require compiled")
	}
	if _, err := Compile("t", []byte(`require "reject"; reject ["a","b"];`), nil); err == nil {
		t.Error("reject with a string list compiled")
	}
}

// A script of a sequence runs after the earlier ones were carried out:
// what they did no longer conflicts (Pigeonhole's multiscript rules).
func TestRejectSequence(t *testing.T) {
	compile := func(src string) *Script {
		s, err := Compile("t", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	m, _ := ParseMessage([]byte(strings.ReplaceAll(testMsg, "\n", "\r\n")))
	in := &Input{Message: m, Envelope: Envelope{From: "a@example.org", To: "b@example.com"}}
	res := RunSequence(context.Background(), []*Script{
		compile(`require ["fileinto","copy"]; fileinto :copy "Archive";`),
		compile(`require "reject"; reject "no";`),
	}, in)
	if res.Err != nil || len(res.Actions) != 2 || res.ImplicitKeep {
		t.Fatalf("%+v", res)
	}
	res = RunSequence(context.Background(), []*Script{
		compile(`require ["fileinto","copy"]; fileinto :copy "Archive";`),
		compile(`require "reject"; keep; reject "no";`),
	}, in)
	if res.Err == nil {
		t.Error("conflict within one script of a sequence not reported")
	}
}
