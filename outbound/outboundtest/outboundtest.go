// Package outboundtest runs SMTP servers for tests of code that sends mail
// through package outbound: a capture server that records every message
// it accepts (and can refuse chosen commands), and a server that accepts
// connections and never answers. Both listen on an ephemeral loopback port
// and stop when the test ends.
package outboundtest

import (
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Captured is one message the capture server accepted.
type Captured struct {
	Helo string   // the name given in the last EHLO/HELO
	From string   // envelope sender; "" for MAIL FROM:<>
	To   []string // envelope recipients, in order
	Data []byte   // the message as received (CRLF line ends, dots unstuffed)
	TLS  bool     // whether the session was encrypted (STARTTLS or implicit)
	UTF8 bool     // whether MAIL FROM carried SMTPUTF8
}

// Options shape a capture server. The zero value accepts everything
// without offering TLS.
type Options struct {
	// TLS, when set, makes the server offer STARTTLS with this
	// configuration (letterbox/internal/testcert makes one).
	TLS *tls.Config
	// ImplicitTLS makes the server speak TLS from the first byte (needs TLS).
	ImplicitTLS bool
	// SMTPUTF8 makes the server offer SMTPUTF8 (RFC 6531).
	SMTPUTF8 bool
	// Mail, Rcpt and Data may refuse their command by returning an error;
	// Reply makes one with a chosen code. A nil func accepts.
	Mail func(from string) error
	Rcpt func(to string) error
	Data func(msg []byte) error
}

// Server is a running capture server.
type Server struct {
	Addr string // host:port to give to outbound.Relay

	opts  Options
	mu    sync.Mutex
	msgs  []Captured
	conns int
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	s *Server
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

// NewCapture starts a capture server that accepts every message and
// returns its address and a function listing what it received so far.
func NewCapture(t testing.TB) (addr string, msgs func() []Captured) {
	s := Start(t, Options{})
	return s.Addr, s.Messages
}

// Start starts a capture server with opts.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.ImplicitTLS && opts.TLS == nil {
		t.Fatal("outboundtest: ImplicitTLS needs Options.TLS")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("outboundtest: listen: %v", err)
	}
	s := &Server{Addr: l.Addr().String(), opts: opts}
	l = countingListener{Listener: l, s: s}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "relay.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = opts.SMTPUTF8
	if opts.ImplicitTLS {
		l = tls.NewListener(l, opts.TLS)
	} else {
		srv.TLSConfig = opts.TLS
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		// Serve may not have registered the listener with srv yet.
		l.Close()
		<-done
	})
	return s
}

// Messages returns a copy of the messages accepted so far, in order.
func (s *Server) Messages() []Captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Captured, len(s.msgs))
	for i, m := range s.msgs {
		m.To = append([]string(nil), m.To...)
		m.Data = bytes.Clone(m.Data)
		out[i] = m
	}
	return out
}

// Connections returns how many connections the server accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Reply returns an error that makes the capture server answer a command
// with code (such as 550 or 451) and text. Text may start with an
// enhanced status code ("5.1.1 no such user"); without one the reply
// carries X.0.0.
func Reply(code int, text string) error {
	e := &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: text}
	if first, rest, ok := strings.Cut(text, " "); ok {
		var ec smtp.EnhancedCode
		parts := strings.Split(first, ".")
		good := len(parts) == 3
		for i := 0; good && i < 3; i++ {
			n, err := strconv.Atoi(parts[i])
			good = err == nil && n >= 0 && n < 1000
			ec[i] = n
		}
		if good {
			e.EnhancedCode, e.Message = ec, rest
		}
	}
	return e
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: s, conn: c, tls: isTLS}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	cur  *Captured
}

func (ss *session) Reset()        { ss.cur = nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if f := ss.s.opts.Mail; f != nil {
		if err := f(from); err != nil {
			return err
		}
	}
	ss.cur = &Captured{Helo: ss.conn.Hostname(), From: from, TLS: ss.tls, UTF8: opts != nil && opts.UTF8}
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if f := ss.s.opts.Rcpt; f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	ss.cur.To = append(ss.cur.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if f := ss.s.opts.Data; f != nil {
		if err := f(data); err != nil {
			return err
		}
	}
	ss.cur.Data = data
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, *ss.cur)
	ss.s.mu.Unlock()
	ss.cur = nil
	return nil
}

// NewSilent starts a server that accepts connections and never sends a
// byte: a relay that does not answer. It returns its address.
func NewSilent(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("outboundtest: listen: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			// Read and drop whatever the client sends, never answer.
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
