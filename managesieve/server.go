package managesieve

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"letterbox/auth"
	"letterbox/internal/netserve"
	"letterbox/storage"
)

// Server serves ManageSieve on any number of listeners.
type Server struct {
	Store    *storage.Store
	Auth     *auth.Authenticator
	Throttle *auth.Throttle // nil: failed logins are not throttled
	// TLS enables STARTTLS; nil disables it. ManageSieve has no
	// implicit-TLS port.
	TLS *tls.Config
	// CleartextAllowed says whether a password may be sent on a connection
	// without TLS from this address; nil means never.
	CleartextAllowed func(remote net.Addr) bool

	// Compile checks a script before it is stored (PUTSCRIPT), checked
	// (CHECKSCRIPT) or activated (SETACTIVE). An error refuses the script
	// and its text goes to the client; warnings accept it with
	// OK (WARNINGS). nil accepts every script.
	Compile func(name string, src []byte) (warnings string, err error)
	// Extensions is the SIEVE capability: the extensions Compile accepts.
	Extensions []string
	// NotifyMethods is the NOTIFY capability, sent when not empty: the
	// enotify methods Compile accepts (RFC 5804 section 1.7).
	NotifyMethods []string
	// MaxRedirects is the MAXREDIRECTS capability, sent when above 0.
	MaxRedirects int

	// MaxScripts is how many scripts an account may hold (0: no limit).
	MaxScripts int
	// MaxScriptSize is the largest script in bytes; 0 means
	// defaultMaxScriptSize.
	MaxScriptSize int
	// MaxLine is the longest line a client may send; 0 means
	// defaultMaxLine.
	MaxLine int
	// MaxConnsPerIP limits connections from one address (0: no limit).
	MaxConnsPerIP int
	// IdleTimeout ends a logged-in session that sends nothing for this
	// long; 0 means defaultIdleTimeout. Before login it is at most
	// preAuthTimeout.
	IdleTimeout time.Duration
	Log         *slog.Logger

	ns netserve.Server
}

const (
	defaultMaxScriptSize = 1 << 20
	// defaultMaxLine fits any command and a SASL PLAIN response carrying
	// a password of auth.MaxPasswordLen bytes, base64-encoded.
	defaultMaxLine     = 8192
	defaultIdleTimeout = 10 * time.Minute
	preAuthTimeout     = time.Minute
	// maxErrors NO replies in a row end a session; before login fewer do,
	// so that something that does not speak ManageSieve (a browser sent
	// here by a page, say) is cut off quickly.
	maxErrors        = 20
	maxErrorsPreAuth = 3
	// implementation is the IMPLEMENTATION capability.
	implementation = "Letterbox"
)

func (s *Server) maxLine() int {
	if s.MaxLine > 0 {
		return s.MaxLine
	}
	return defaultMaxLine
}

func (s *Server) maxScriptSize() int {
	if s.MaxScriptSize > 0 {
		return s.MaxScriptSize
	}
	return defaultMaxScriptSize
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return defaultIdleTimeout
}

func (s *Server) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.ns.Serve(ln, netserve.Options{
		MaxConnsPerIP: s.MaxConnsPerIP,
		Refuse:        `BYE (TRYLATER) "Too many connections from your address"`,
		NewSession:    func(nc net.Conn) netserve.Session { return newConn(s, nc) },
	})
}

// Shutdown stops accepting, ends every session that is waiting for a
// command with BYE, lets commands in progress finish, and waits for the
// sessions to end or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.ns.Shutdown(ctx)
}
