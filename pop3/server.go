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
	"letterbox/internal/netserve"
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

	ns    netserve.Server
	mu    sync.Mutex
	locks map[string]*conn // maildrop locks, by account name
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
	o := netserve.Options{
		MaxConnsPerIP: s.MaxConnsPerIP,
		// Not a reply to any command, but what every server sends.
		Refuse:     "-ERR [SYS/TEMP] Too many connections from your address",
		NewSession: func(nc net.Conn) netserve.Session { return newConn(s, nc, implicitTLS) },
	}
	if implicitTLS {
		if s.TLS == nil {
			return errors.New("pop3: implicit TLS listener without a TLS configuration")
		}
		o.TLS = s.TLS
	}
	return s.ns.Serve(ln, o)
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

// Shutdown stops accepting, ends every session that is waiting for a
// command (without the UPDATE state: nothing is deleted), lets commands in
// progress finish, and waits for the sessions to end or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.ns.Shutdown(ctx)
}
