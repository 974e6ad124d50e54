package outbound_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"letterbox/internal/testcert"
	"letterbox/outbound"
	"letterbox/outbound/outboundtest"
)

const testMsg = "From: bob@example.com\nTo: alice@example.org\nSubject: test\n\nline one\n.leading dot\n..two dots\n"

// wantData is testMsg as it must arrive: CRLF line ends, dots as written.
var wantData = strings.ReplaceAll(testMsg, "\n", "\r\n")

func send(t *testing.T, r *outbound.Relay, from string, to ...string) error {
	t.Helper()
	return r.Send(context.Background(), from, to, strings.NewReader(testMsg))
}

func one(t *testing.T, msgs []outboundtest.Captured) outboundtest.Captured {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("%d messages arrived, want 1: %+v", len(msgs), msgs)
	}
	return msgs[0]
}

func TestSend(t *testing.T) {
	addr, msgs := outboundtest.NewCapture(t)
	r := &outbound.Relay{Addr: addr, Helo: "mx.example.com"}
	if err := send(t, r, "bob@example.com", "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	m := one(t, msgs())
	if m.From != "bob@example.com" || strings.Join(m.To, ",") != "alice@example.org" || m.Helo != "mx.example.com" || m.TLS {
		t.Errorf("envelope %+v", m)
	}
	if string(m.Data) != wantData {
		t.Errorf("data %q, want %q", m.Data, wantData)
	}
}

func TestNullSender(t *testing.T) {
	addr, msgs := outboundtest.NewCapture(t)
	r := &outbound.Relay{Addr: addr, TLS: outbound.TLSNone}
	if err := send(t, r, "", "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if m := one(t, msgs()); m.From != "" || m.To[0] != "alice@example.org" {
		t.Errorf("envelope %+v", m)
	}
}

func TestSeveralRecipients(t *testing.T) {
	addr, msgs := outboundtest.NewCapture(t)
	r := &outbound.Relay{Addr: addr}
	to := []string{"a@example.org", "b@example.net", "c@example.com"}
	if err := send(t, r, "bob@example.com", to...); err != nil {
		t.Fatal(err)
	}
	if m := one(t, msgs()); strings.Join(m.To, " ") != strings.Join(to, " ") || string(m.Data) != wantData {
		t.Errorf("got %+v", m)
	}
}

func TestDefaultHelo(t *testing.T) {
	addr, msgs := outboundtest.NewCapture(t)
	if err := send(t, &outbound.Relay{Addr: addr}, "bob@example.com", "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	want, err := os.Hostname()
	if err != nil || want == "" {
		want = "localhost"
	}
	if m := one(t, msgs()); m.Helo != want {
		t.Errorf("EHLO %q, want the host name %q", m.Helo, want)
	}
}

func TestLargeMessage(t *testing.T) {
	addr, msgs := outboundtest.NewCapture(t)
	var b strings.Builder
	b.WriteString("Subject: big\r\n\r\n")
	for i := 0; b.Len() < 4<<20; i++ {
		b.WriteString(strings.Repeat("abcdefghij", 7) + "\r\n")
	}
	err := (&outbound.Relay{Addr: addr}).Send(context.Background(), "bob@example.com", []string{"alice@example.org"}, strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if m := one(t, msgs()); string(m.Data) != b.String() {
		t.Errorf("received %d bytes, sent %d", len(m.Data), b.Len())
	}
}

// refusal checks that err is a refusal with code from cmd.
func refusal(t *testing.T, err error, cmd string, code int, permanent bool) *outbound.Error {
	t.Helper()
	var e *outbound.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *outbound.Error", err, err)
	}
	if e.Command != cmd || e.Code != code {
		t.Errorf("refused %s with %d, want %s with %d: %v", e.Command, e.Code, cmd, code, err)
	}
	if e.Permanent() != permanent || e.Temporary() == permanent || outbound.IsPermanent(err) != permanent {
		t.Errorf("%v: Permanent %v, Temporary %v, IsPermanent %v; want permanent %v",
			err, e.Permanent(), e.Temporary(), outbound.IsPermanent(err), permanent)
	}
	return e
}

func TestPermanentRefusal(t *testing.T) {
	s := outboundtest.Start(t, outboundtest.Options{
		Rcpt: func(to string) error {
			if strings.HasPrefix(to, "nobody@") {
				return outboundtest.Reply(550, "5.1.1 no such user")
			}
			return nil
		},
	})
	r := &outbound.Relay{Addr: s.Addr}
	err := send(t, r, "bob@example.com", "alice@example.org", "nobody@example.org", "carol@example.org")
	e := refusal(t, err, "RCPT", 550, true)
	if e.Recipient != "nobody@example.org" || e.Enhanced != [3]int{5, 1, 1} || e.Message != "no such user" || e.Relay != s.Addr {
		t.Errorf("error %+v", e)
	}
	want := "outbound: relay " + s.Addr + " refused RCPT TO:<nobody@example.org>: 550 5.1.1 no such user"
	if err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	// All or nothing: the accepted recipients got nothing either.
	if got := s.Messages(); len(got) != 0 {
		t.Errorf("a refused recipient still let %d message(s) through: %+v", len(got), got)
	}
}

func TestTemporaryRefusal(t *testing.T) {
	s := outboundtest.Start(t, outboundtest.Options{
		Mail: func(from string) error { return outboundtest.Reply(451, "4.3.0 try later") },
	})
	err := send(t, &outbound.Relay{Addr: s.Addr}, "bob@example.com", "alice@example.org")
	if e := refusal(t, err, "MAIL", 451, false); e.Enhanced != [3]int{4, 3, 0} {
		t.Errorf("enhanced code %v", e.Enhanced)
	}
	if len(s.Messages()) != 0 {
		t.Error("message arrived")
	}
}

func TestDataRefusal(t *testing.T) {
	for _, tt := range []struct {
		code      int
		permanent bool
	}{{554, true}, {452, false}} {
		s := outboundtest.Start(t, outboundtest.Options{
			Data: func(msg []byte) error { return outboundtest.Reply(tt.code, "refused after data") },
		})
		err := send(t, &outbound.Relay{Addr: s.Addr}, "bob@example.com", "alice@example.org")
		refusal(t, err, "DATA", tt.code, tt.permanent)
	}
}

func TestNoRelay(t *testing.T) {
	for _, r := range []*outbound.Relay{nil, {}, {Helo: "x", TLS: outbound.TLSImplicit}} {
		err := r.Send(context.Background(), "", []string{"alice@example.org"}, strings.NewReader(testMsg))
		if !errors.Is(err, outbound.ErrNoRelay) {
			t.Errorf("%+v: %v, want ErrNoRelay", r, err)
		}
		if outbound.IsPermanent(err) {
			t.Error("ErrNoRelay is permanent")
		}
	}
}

func TestInvalidAddresses(t *testing.T) {
	s := outboundtest.Start(t, outboundtest.Options{})
	r := &outbound.Relay{Addr: s.Addr}
	for _, tt := range []struct {
		from string
		to   []string
	}{
		{"bob@example.com", nil},
		{"bob@example.com", []string{""}},
		{"bob@example.com", []string{"alice@example.org>\r\nRCPT TO:<victim@example.net"}},
		{"bob@example.com\r\nRSET", []string{"alice@example.org"}},
		{"bob@example.com", []string{"alice@example.org", "two words@example.org"}},
		{"<bob@example.com>", []string{"alice@example.org"}},
		{"bob@example.com", []string{strings.Repeat("a", 600) + "@example.org"}},
	} {
		err := r.Send(context.Background(), tt.from, tt.to, strings.NewReader(testMsg))
		if !errors.Is(err, outbound.ErrInvalidAddress) || !outbound.IsPermanent(err) {
			t.Errorf("from %q to %q: %v, want a permanent ErrInvalidAddress", tt.from, tt.to, err)
		}
	}
	if n := s.Connections(); n != 0 {
		t.Errorf("invalid addresses made %d connection(s)", n)
	}
}

func TestSMTPUTF8(t *testing.T) {
	plain := outboundtest.Start(t, outboundtest.Options{})
	err := send(t, &outbound.Relay{Addr: plain.Addr}, "bob@example.com", "jösé@example.org")
	if !errors.Is(err, outbound.ErrInvalidAddress) || !outbound.IsPermanent(err) {
		t.Errorf("non-ASCII recipient to a relay without SMTPUTF8: %v", err)
	}
	utf8 := outboundtest.Start(t, outboundtest.Options{SMTPUTF8: true})
	if err := send(t, &outbound.Relay{Addr: utf8.Addr}, "bob@example.com", "jösé@example.org"); err != nil {
		t.Fatal(err)
	}
	if m := one(t, utf8.Messages()); !m.UTF8 || m.To[0] != "jösé@example.org" {
		t.Errorf("got %+v", m)
	}
	// ASCII mail does not ask for SMTPUTF8.
	if err := send(t, &outbound.Relay{Addr: utf8.Addr}, "bob@example.com", "jose@example.org"); err != nil {
		t.Fatal(err)
	}
	if m := utf8.Messages()[1]; m.UTF8 {
		t.Error("SMTPUTF8 asked for ASCII addresses")
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		n := copy(p, bytes.Repeat([]byte("x"), min(len(p), r.n)))
		r.n -= n
		return n, nil
	}
	return 0, errors.New("disk on fire")
}

func TestReaderError(t *testing.T) {
	addr, msgs := outboundtest.NewCapture(t)
	err := (&outbound.Relay{Addr: addr}).Send(context.Background(), "bob@example.com", []string{"alice@example.org"}, &failingReader{n: 100})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || outbound.IsPermanent(err) {
		t.Errorf("error %v", err)
	}
	// The transaction was abandoned before its end: nothing was delivered.
	time.Sleep(50 * time.Millisecond)
	if got := msgs(); len(got) != 0 {
		t.Errorf("a message arrived: %+v", got)
	}
}

func TestRelayDoesNotAnswer(t *testing.T) {
	addr := outboundtest.NewSilent(t)
	r := &outbound.Relay{Addr: addr, Timeout: 200 * time.Millisecond}
	err := send(t, r, "bob@example.com", "alice@example.org")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent relay: %v, want context.DeadlineExceeded", err)
	}
	if outbound.IsPermanent(err) {
		t.Error("timeout is permanent")
	}
}

func TestCancel(t *testing.T) {
	addr := outboundtest.NewSilent(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	// The relay's own timeout is long: the cancellation must end Send.
	err := (&outbound.Relay{Addr: addr, Timeout: time.Hour}).Send(ctx, "", []string{"alice@example.org"}, strings.NewReader(testMsg))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	r := &outbound.Relay{Addr: closedPort(t)}
	err := send(t, r, "bob@example.com", "alice@example.org")
	if err == nil || outbound.IsPermanent(err) || !strings.Contains(err.Error(), "connect to relay") {
		t.Errorf("refused connection: %v", err)
	}
}

func TestSTARTTLS(t *testing.T) {
	cert := testcert.New(t, "127.0.0.1")
	s := outboundtest.Start(t, outboundtest.Options{TLS: cert.Server})

	// Default mode: STARTTLS, certificate not verified (opportunistic).
	r := &outbound.Relay{Addr: s.Addr, Helo: "mx.example.com"}
	if err := send(t, r, "", "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	m := one(t, s.Messages())
	if !m.TLS || m.Helo != "mx.example.com" || m.From != "" || string(m.Data) != wantData {
		t.Errorf("got %+v", m)
	}

	// With a TLSConfig the certificate is verified: against the right
	// roots it passes, against the system's it fails (not permanently).
	r.TLSConfig = &tls.Config{RootCAs: cert.Roots}
	if err := send(t, r, "bob@example.com", "alice@example.org"); err != nil {
		t.Fatalf("verified STARTTLS: %v", err)
	}
	r.TLSConfig = &tls.Config{}
	err := send(t, r, "bob@example.com", "alice@example.org")
	if err == nil || outbound.IsPermanent(err) {
		t.Errorf("untrusted certificate with verification on: %v", err)
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}

	// "none" never upgrades, even when offered.
	r = &outbound.Relay{Addr: s.Addr, TLS: outbound.TLSNone}
	if err := send(t, r, "bob@example.com", "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if msgs := s.Messages(); msgs[len(msgs)-1].TLS {
		t.Error("TLS used with TLSNone")
	}
}

func TestSTARTTLSNotOffered(t *testing.T) {
	s := outboundtest.Start(t, outboundtest.Options{})
	if err := send(t, &outbound.Relay{Addr: s.Addr, TLS: outbound.TLSStartTLS}, "bob@example.com", "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if m := one(t, s.Messages()); m.TLS {
		t.Error("TLS without an offer?")
	}
	if n := s.Connections(); n != 1 {
		t.Errorf("%d connections, want 1 (no second one when STARTTLS is not offered)", n)
	}
}

func TestImplicitTLS(t *testing.T) {
	cert := testcert.New(t, "127.0.0.1")
	s := outboundtest.Start(t, outboundtest.Options{TLS: cert.Server, ImplicitTLS: true})

	r := &outbound.Relay{Addr: s.Addr, TLS: outbound.TLSImplicit, TLSConfig: &tls.Config{RootCAs: cert.Roots}}
	if err := send(t, r, "bob@example.com", "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if m := one(t, s.Messages()); !m.TLS {
		t.Error("not TLS")
	}
	// Without a TLSConfig, implicit TLS verifies against the system roots.
	r.TLSConfig = nil
	err := send(t, r, "bob@example.com", "alice@example.org")
	if err == nil || outbound.IsPermanent(err) || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("self-signed certificate accepted by default: %v", err)
	}
	// A plaintext relay in TLS mode: the handshake fails.
	plain := outboundtest.Start(t, outboundtest.Options{})
	r = &outbound.Relay{Addr: plain.Addr, TLS: outbound.TLSImplicit, Timeout: 2 * time.Second}
	if err := send(t, r, "bob@example.com", "alice@example.org"); err == nil {
		t.Error("implicit TLS to a plaintext relay succeeded")
	}
}

func TestBadRelayConfig(t *testing.T) {
	for _, r := range []*outbound.Relay{
		{Addr: "127.0.0.1:25", TLS: "ssl"},
		{Addr: "no-port"},
	} {
		if err := send(t, r, "bob@example.com", "alice@example.org"); err == nil || errors.Is(err, outbound.ErrNoRelay) {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

// closedPort returns a loopback address nothing listens on: one that was
// free a moment ago.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
