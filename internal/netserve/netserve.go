// Package netserve is the accept loop the protocol servers share: it
// tracks listeners and sessions, limits connections per address, and
// ends everything on Shutdown. What a session says and when it may be
// interrupted stay with the protocol.
package netserve

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// Session is one accepted connection.
type Session interface {
	// Serve runs the session until it ends and closes its connection.
	Serve()
	// Shutdown asks the session to end at its next command. It is called
	// from another goroutine, at most once.
	Shutdown()
	// Close drops the connection at once: Shutdown's context ran out.
	Close()
}

// Options say how one listener's connections are served.
type Options struct {
	// TLS, when not nil, wraps every connection in a server-side TLS
	// connection (implicit TLS); the session runs the handshake.
	TLS *tls.Config
	// MaxConnsPerIP limits connections from one address (0: no limit).
	MaxConnsPerIP int
	// Refuse is written, with its line ending, to a cleartext connection
	// refused by MaxConnsPerIP. An implicit-TLS one is closed in silence:
	// a handshake would hold up the accept loop.
	Refuse string
	// NewSession makes the session of an accepted connection.
	NewSession func(nc net.Conn) Session
}

// Server tracks listeners and sessions. Its zero value is ready to use.
type Server struct {
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[Session]struct{}
	perIP     map[string]int
	closing   bool
	wg        sync.WaitGroup
}

// refuseTimeout bounds the write of Options.Refuse.
const refuseTimeout = time.Second

// Serve accepts connections on ln until Shutdown, which makes it return
// nil. A listener given after Shutdown is closed at once.
func (s *Server) Serve(ln net.Listener, o Options) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.sessions = map[Session]struct{}{}
		s.perIP = map[string]int{}
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
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
				time.Sleep(10 * time.Millisecond) // out of file descriptors, for instance
				continue
			}
			return err
		}
		raw, ip := nc, HostOf(nc.RemoteAddr())
		if o.TLS != nil {
			nc = tls.Server(nc, o.TLS)
		}
		sess := o.NewSession(nc)
		if !s.take(sess, ip, o.MaxConnsPerIP) {
			if o.TLS == nil && o.Refuse != "" {
				// A fresh socket's send buffer is empty: this does not block.
				raw.SetWriteDeadline(time.Now().Add(refuseTimeout))
				raw.Write([]byte(o.Refuse + "\r\n"))
			}
			raw.Close()
			continue
		}
		go func() {
			defer s.release(sess, ip)
			sess.Serve()
		}()
	}
}

// take tracks sess, one more connection from ip; false when over the
// limit or shutting down. Tracking under the same lock as Shutdown means
// every session that runs is one Shutdown reaches.
func (s *Server) take(sess Session, ip string, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || limit > 0 && s.perIP[ip] >= limit {
		return false
	}
	s.perIP[ip]++
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) release(sess Session, ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sess)
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
	s.wg.Done()
}

// Shutdown stops accepting, asks every session to end, and waits for them
// or for ctx; when ctx ends first, the sessions left are closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	for sess := range s.sessions {
		sess.Shutdown()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for sess := range s.sessions {
			sess.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// HostOf is the address that MaxConnsPerIP and login throttling count:
// the IP of a TCP peer, the whole address otherwise.
func HostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	if a == nil {
		return ""
	}
	return a.String()
}
