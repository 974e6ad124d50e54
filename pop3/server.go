package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"letterbox/auth"
	"letterbox/storage"
)

// Server serves POP3 on any number of listeners.
type Server struct {
	Store    *storage.Store
	Auth     *auth.Authenticator
	Throttle *auth.Throttle // nil: failed logins are not throttled
	// TLS enables STLS and implicit-TLS listeners; nil disables both.
	TLS *tls.Config
	// CleartextAllowed says whether a password may be sent on a connection
	// without TLS from this address; nil means never.
	CleartextAllowed func(remote net.Addr) bool
	// MaxLine is the longest line a client may send (commands and SASL
	// responses); 0 means defaultMaxLine.
	MaxLine int
	// MaxConnsPerIP limits connections from one address (0: no limit).
	MaxConnsPerIP int
	// IdleTimeout ends a session that sends nothing for this long; 0 means
	// the RFC 1939 section 3 minimum of 10 minutes.
	IdleTimeout time.Duration
	// Hostname goes into the greeting's APOP timestamp; "" means the
	// system's host name.
	Hostname string
	Log      *slog.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	perIP     map[string]int
	locks     map[string]*conn // maildrop locks, by account name
	closing   bool
	wg        sync.WaitGroup
}

const (
	// defaultMaxLine fits any command (RFC 2449 section 4 asks for at
	// least 255 octets) and a SASL PLAIN response carrying a password of
	// auth.MaxPasswordLen bytes, base64-encoded.
	defaultMaxLine = 8192
	// defaultIdleTimeout: RFC 1939 section 3, an autologout timer "MUST be
	// of at least 10 minutes' duration".
	defaultIdleTimeout = 10 * time.Minute
	// maxErrors -ERR replies in a row end a session: nothing a working
	// client does comes near it. Failed logins are the throttle's business.
	maxErrors = 20
)

func (s *Server) maxLine() int {
	if s.MaxLine > 0 {
		return s.MaxLine
	}
	return defaultMaxLine
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return defaultIdleTimeout
}

func (s *Server) hostname() string {
	if s.Hostname != "" {
		return s.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func (s *Server) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Serve accepts connections on ln until Shutdown. With implicitTLS every
// connection starts with a TLS handshake (port 995).
func (s *Server) Serve(ln net.Listener, implicitTLS bool) error {
	if implicitTLS && s.TLS == nil {
		return errors.New("pop3: implicit TLS listener without a TLS configuration")
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
		s.perIP = map[string]int{}
		s.locks = map[string]*conn{}
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		if implicitTLS {
			nc = tls.Server(nc, s.TLS)
		}
		c := newConn(s, nc, implicitTLS)
		if !s.track(c) {
			// Not a reply to any command, but what every server sends.
			nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			nc.Write([]byte("-ERR [SYS/TEMP] Too many connections from your address\r\n"))
			nc.Close()
			continue
		}
		go func() {
			defer s.untrack(c)
			c.serve()
		}()
	}
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	ip := hostOf(c.remote)
	if s.MaxConnsPerIP > 0 && s.perIP[ip] >= s.MaxConnsPerIP {
		return false
	}
	s.perIP[ip]++
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	ip := hostOf(c.remote)
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
	if c.lockedAs != "" && s.locks[c.lockedAs] == c {
		delete(s.locks, c.lockedAs)
	}
	s.wg.Done()
}

// lock takes the maildrop lock of account for c; false when another
// session holds it.
func (s *Server) lock(account string, c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks == nil {
		s.locks = map[string]*conn{}
	}
	if holder, ok := s.locks[account]; ok && holder != c {
		return false
	}
	s.locks[account] = c
	return true
}

func (s *Server) unlock(account string, c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks[account] == c {
		delete(s.locks, account)
	}
}

func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	if a == nil {
		return ""
	}
	return a.String()
}

// Shutdown stops accepting, ends every session that is waiting for a
// command (without the UPDATE state: nothing is deleted), lets commands in
// progress finish, and waits for the sessions to end or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.shutdown()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.raw.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}
