package sieve

import "testing"

func TestParseRedirectFrom(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		" Sender ":                  "sender",
		"recipient":                 "recipient",
		"orig_recipient ":           "orig_recipient",
		"user_email":                "user_email",
		"<>":                        "<>",
		"< bounce@example.net > ":   "<bounce@example.net>",
		"<backscatter@example.net>": "<backscatter@example.net>",
	} {
		got, err := ParseRedirectFrom(in)
		if err != nil || got != want {
			t.Errorf("ParseRedirectFrom(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"postmaster", "bounce@example.net", "<no-at>", "<a b@c>", "<@x>", "owner"} {
		if got, err := ParseRedirectFrom(bad); err == nil {
			t.Errorf("ParseRedirectFrom(%q) = %q, want an error", bad, got)
		}
	}
}

func TestForward(t *testing.T) {
	plain, _ := ParseMessage([]byte("From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n"))
	marked, _ := ParseMessage([]byte("X-Sieve-Redirected-From: other@example.net\r\nX-Sieve-Redirected-From: <Me@Example.net>\r\n\r\nbody\r\n"))
	env := Envelope{From: "sender@example.org", To: "me+box@example.net", OrigTo: "alias@example.net"}
	null := Envelope{To: "me+box@example.net"}
	cases := []struct {
		name, setting, user string
		env                 Envelope
		m                   *Message
		from, header        string
		loop                bool
	}{
		{"default", "", "", env, plain, "sender@example.org", "me+box@example.net", false},
		{"sender", "sender", "me@example.net", env, plain, "sender@example.org", "me@example.net", false},
		{"recipient", "recipient", "", env, plain, "me+box@example.net", "me+box@example.net", false},
		{"orig", "orig_recipient", "", env, plain, "alias@example.net", "me+box@example.net", false},
		{"orig unknown", "orig_recipient", "", Envelope{From: "s@o", To: "me@example.net"}, plain, "me@example.net", "me@example.net", false},
		{"user email", "user_email", "me@example.net", env, plain, "me@example.net", "me@example.net", false},
		{"user email unset", "user_email", "", env, plain, "me+box@example.net", "me+box@example.net", false},
		{"explicit", "<bounce@example.net>", "", env, plain, "bounce@example.net", "me+box@example.net", false},
		{"null", "<>", "", env, plain, "", "me+box@example.net", false},
		{"null sender stays", "<bounce@example.net>", "", null, plain, "", "me+box@example.net", false},
		{"loop by user", "", "me@example.net", env, marked, "sender@example.org", "me@example.net", true},
		{"loop by recipient", "", "", Envelope{From: "s@o", To: "me@example.net"}, marked, "s@o", "me@example.net", true},
		{"no loop", "", "", env, marked, "sender@example.org", "me+box@example.net", false},
	}
	for _, c := range cases {
		f := Forward(c.setting, c.user, c.env, c.m)
		if f.From != c.from || f.Header != "X-Sieve-Redirected-From: "+c.header+"\r\n" || f.Loop != c.loop {
			t.Errorf("%s: got %+v, want from %q, header for %q, loop %v", c.name, f, c.from, c.header, c.loop)
		}
	}
}
