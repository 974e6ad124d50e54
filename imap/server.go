package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"letterbox/auth"
	"letterbox/internal/netserve"
	"letterbox/storage"
)

// Server serves IMAP on any number of listeners.
type Server struct {
	Store    *storage.Store
	Auth     *auth.Authenticator
	Throttle *auth.Throttle
	// TLS enables STARTTLS and implicit-TLS listeners; nil disables both.
	TLS *tls.Config
	// CleartextAllowed says whether LOGIN and AUTHENTICATE may be used on a
	// connection without TLS from this address (LOGINDISABLED otherwise).
	CleartextAllowed func(remote net.Addr) bool
	// MaxMessageSize is the APPENDLIMIT (RFC 7889).
	MaxMessageSize int64
	// MaxConnsPerIP limits connections from one address (0: no limit).
	MaxConnsPerIP int
	// MaxConnsPerUser limits logged-in sessions of one account (0: none).
	MaxConnsPerUser int
	Log             *slog.Logger

	ns      netserve.Server
	mu      sync.Mutex
	perUser map[string]int
}

// Timeouts: RFC 9051 section 5.4 asks for at least 30 minutes of
// inactivity before an authenticated client is logged out.
const (
	idleTimeoutPreAuth = time.Minute
	idleTimeoutAuth    = 30 * time.Minute
)

// Serve accepts connections on ln until Shutdown. With implicitTLS the
// connections start with a TLS handshake (port 993).
func (s *Server) Serve(ln net.Listener, implicitTLS bool) error {
	o := netserve.Options{
		MaxConnsPerIP: s.MaxConnsPerIP,
		Refuse:        "* BYE Too many connections from your address",
		NewSession:    func(nc net.Conn) netserve.Session { return newConn(s, nc, implicitTLS) },
	}
	if implicitTLS {
		if s.TLS == nil {
			return errors.New("imap: implicit TLS listener without a TLS configuration")
		}
		o.TLS = s.TLS
	}
	return s.ns.Serve(ln, o)
}

// takeUser counts a logged-in session of account; false when over the limit.
func (s *Server) takeUser(account string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perUser == nil {
		s.perUser = map[string]int{}
	}
	if s.MaxConnsPerUser > 0 && s.perUser[account] >= s.MaxConnsPerUser {
		return false
	}
	s.perUser[account]++
	return true
}

func (s *Server) releaseUser(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perUser[account]--; s.perUser[account] <= 0 {
		delete(s.perUser, account)
	}
}

// Shutdown stops accepting, says BYE to every connection between commands,
// and waits for them to end (or for ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	return s.ns.Shutdown(ctx)
}
