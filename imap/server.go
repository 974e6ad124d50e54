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

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	perIP     map[string]int
	perUser   map[string]int
	closing   bool
	wg        sync.WaitGroup
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
	if implicitTLS && s.TLS == nil {
		return errors.New("imap: implicit TLS listener without a TLS configuration")
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.initLocked()
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
			nc.Write([]byte("* BYE Too many connections from your address\r\n"))
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
	ip := hostOf(c.nc.RemoteAddr())
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
	ip := hostOf(c.nc.RemoteAddr())
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
	if c.userSlot != "" {
		s.releaseUserLocked(c.userSlot)
	}
	s.wg.Done()
}

func (s *Server) initLocked() {
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
		s.perIP = map[string]int{}
		s.perUser = map[string]int{}
	}
}

// takeUser counts a logged-in session of account; false when over the limit.
func (s *Server) takeUser(account string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if s.MaxConnsPerUser > 0 && s.perUser[account] >= s.MaxConnsPerUser {
		return false
	}
	s.perUser[account]++
	return true
}

func (s *Server) releaseUser(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseUserLocked(account)
}

func (s *Server) releaseUserLocked(account string) {
	if s.perUser[account]--; s.perUser[account] <= 0 {
		delete(s.perUser, account)
	}
}

func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	return a.String()
}

// Shutdown stops accepting, says BYE to every connection between commands,
// and waits for them to end (or for ctx).
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
			c.nc.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}
