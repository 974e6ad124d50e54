package lmtp

import (
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

var traceTime = time.Date(2024, 1, 2, 10, 0, 1, 0, time.FixedZone("", 3600))

func TestTraceHeader(t *testing.T) {
	tcp := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4242}
	for _, tt := range []struct {
		name string
		env  Envelope
		want string
	}{
		{"one recipient", Envelope{ID: "abc", From: "alice@example.org", Helo: "mx.example.org", Remote: tcp, Protocol: "LMTP",
			Recipients: []*Recipient{{Address: "bob+x@example.com"}}},
			"Return-Path: <alice@example.org>\r\nDelivered-To: bob+x@example.com\r\n" +
				"Received: from mx.example.org ([192.0.2.7])\r\n\tby mx.test (Letterbox) with LMTP id abc\r\n\tfor <bob+x@example.com>;\r\n" +
				"\tTue, 02 Jan 2024 10:00:01 +0100\r\n"},
		{"two recipients", Envelope{ID: "abc", From: "", Helo: "[192.0.2.7]", Remote: &net.TCPAddr{IP: net.ParseIP("2001:db8::1")}, Protocol: "LMTP",
			Recipients: []*Recipient{{Address: "bob@example.com"}, {Address: "carol@example.com"}}},
			"Return-Path: <>\r\nReceived: from [192.0.2.7] ([IPv6:2001:db8::1])\r\n\tby mx.test (Letterbox) with LMTP id abc;\r\n" +
				"\tTue, 02 Jan 2024 10:00:01 +0100\r\n"},
		{"unix socket, odd helo, quoted local part", Envelope{ID: "abc", From: `a b"c@example.org`, Helo: "evil\r\nX-Injected: 1 (", Remote: &net.UnixAddr{Name: "@", Net: "unix"}, Protocol: "LMTP",
			Recipients: []*Recipient{{Address: "bob@example.com"}, {Address: "BOB@example.com"}}},
			"Return-Path: <\"a b\\\"c\"@example.org>\r\nDelivered-To: bob@example.com\r\n" +
				"Received: from evilX-Injected:1\r\n\tby mx.test (Letterbox) with LMTP id abc\r\n\tfor <bob@example.com>;\r\n" +
				"\tTue, 02 Jan 2024 10:00:01 +0100\r\n"},
		{"local delivery, no sender", Envelope{ID: "abc", UnknownSender: true, Recipients: []*Recipient{{Address: "bob@example.com"}}},
			"Delivered-To: bob@example.com\r\nReceived: by mx.test (Letterbox) id abc\r\n\tfor <bob@example.com>;\r\n" +
				"\tTue, 02 Jan 2024 10:00:01 +0100\r\n"},
	} {
		got := string(traceHeader(&tt.env, "mx.test", traceTime))
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
			continue
		}
		// The fields parse, and the date is the one given.
		m, err := mail.ReadMessage(strings.NewReader(got + "\r\n"))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		recv := m.Header.Get("Received")
		d, err := mail.ParseDate(strings.TrimSpace(recv[strings.LastIndex(recv, ";")+1:]))
		if err != nil || !d.Equal(traceTime) {
			t.Errorf("%s: Received date %v, %v", tt.name, d, err)
		}
	}
}

// TestTraceReserve: whatever the client sends, the trace headers fit in
// the room kept for them under the size limit.
func TestTraceReserve(t *testing.T) {
	worst := strings.Repeat(`"\`, maxPath/4) + "@" + strings.Repeat("d", maxPath/2-1)
	if !validAddress(worst) {
		t.Fatal("worst-case address is not valid")
	}
	env := &Envelope{ID: NewID(), From: worst, Helo: strings.Repeat("h", 10000), Protocol: "LMTP",
		Remote: &net.TCPAddr{IP: net.ParseIP("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")}, Recipients: []*Recipient{{Address: worst}}}
	if n := len(traceHeader(env, strings.Repeat("m", 253), time.Now())); n > traceReserve {
		t.Errorf("trace headers are %d bytes, more than traceReserve %d", n, traceReserve)
	}
}

func TestAddressHelpers(t *testing.T) {
	for in, want := range map[string]bool{
		"a@b": true, "zoë@exämple.org": true, "a b@c": true,
		"": false, "a": false, "@b": false, "a@": false, "a\r@b": false, "a@b\x00": false, "\xff@b": false,
		strings.Repeat("a", maxPath) + "@b": false,
	} {
		if got := validAddress(in); got != want {
			t.Errorf("validAddress(%q) = %v", in, got)
		}
	}
	for _, tt := range []struct{ local, delims, user, detail string }{
		{"bob+x", "+", "bob", "x"},
		{"bob-x+y", "+-", "bob", "x+y"},
		{"bob", "+", "bob", ""},
		{"+bob", "+", "+bob", ""},
		{"bob+x", "", "bob+x", ""},
	} {
		u, d, _ := splitDetail(tt.local, tt.delims)
		if u != tt.user || d != tt.detail {
			t.Errorf("splitDetail(%q, %q) = %q, %q", tt.local, tt.delims, u, d)
		}
	}
	for in, want := range map[string]string{
		"a.b@c": "a.b@c", "a..b@c": `"a..b"@c`, ".a@c": `".a"@c`, `a"b@c`: `"a\"b"@c`, "zoë@c": "zoë@c", "a@b@c": `"a@b"@c`,
	} {
		if got := formatAddress(in); got != want {
			t.Errorf("formatAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		r    *smtp.SMTPError
		want int
	}{
		{nil, 0},
		{replySaved("x"), 0},
		{replyNoUser("a@b"), ExitNoUser},
		{replyBadRecipient(), ExitNoUser},
		{replyNoDomain("a@b"), ExitNoHost},
		{replyFull("", false), ExitCantCreate},
		{replyFull("", true), ExitTempFail},
		{replyTooBig(), ExitUnavailable},
		{replyTempFail("x"), ExitTempFail},
	} {
		if got := ExitCode(tt.r); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.r, got, tt.want)
		}
	}
}

// FuzzTrace feeds client-controlled strings (sender, recipient, LHLO
// name) through the address checks and the trace header: nothing panics,
// an accepted address never breaks the header's lines, and the header
// fits in traceReserve.
func FuzzTrace(f *testing.F) {
	for _, s := range []string{"alice@example.org", `"a b"@example.org`, "bob+detail@example.com", "zoë@example.org", "a\r\nX: y@b", "[1.2.3.4]", "@@@", ""} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, from, rcpt, helo string) {
		if !validAddress(rcpt) {
			return
		}
		if from != "" && !validAddress(from) {
			return
		}
		splitDetail(rcpt, "+-.")
		env := &Envelope{ID: "id", From: from, Helo: helo, Protocol: "LMTP", Recipients: []*Recipient{{Address: rcpt}}}
		h := traceHeader(env, "mx.test", traceTime)
		if len(h) > traceReserve {
			t.Fatalf("%d bytes of trace headers", len(h))
		}
		lines := strings.Split(strings.TrimSuffix(string(h), "\r\n"), "\r\n")
		fields := 0
		for _, l := range lines {
			if strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bare CR or LF in %q", l)
			}
			if !strings.HasPrefix(l, "\t") {
				fields++
			}
		}
		if fields != 3 {
			t.Fatalf("%d fields in\n%s", fields, h)
		}
	})
}
