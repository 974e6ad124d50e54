package lmtp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"letterbox/storage"
)

const (
	// maxLine bounds a command line and a line of message data alike
	// (both come through one reader; BDAT chunks too). RFC 5321 section
	// 4.5.3.1.6 allows 1000 octets, but real mail has longer lines and
	// Dovecot keeps them, so a message line may be this long; a longer
	// one fails the transaction and ends the connection.
	maxLine = 1 << 20
	// maxRecipients bounds the RCPTs of one transaction; RFC 5321 section
	// 4.5.3.1.8 asks for at least 100. Postfix sends at most 50 by
	// default (lmtp_destination_recipient_limit).
	maxRecipients = 1000
	// idleTimeout is how long a read may wait: RFC 5321 section
	// 4.5.3.2.7 gives the server 5 minutes between commands, and section
	// 4.5.3.2.5 the client 3 minutes per block of DATA.
	idleTimeout = 5 * time.Minute
	// writeTimeout bounds writing one reply.
	writeTimeout = time.Minute
)

// Server is an LMTP server (RFC 2033) over TCP and unix sockets.
type Server struct {
	d    *Deliverer
	smtp *smtp.Server
	log  *slog.Logger
	opts Options

	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closing   bool
	active    int           // transactions between MAIL and their end
	idle      chan struct{} // closed when active reaches 0 while closing
	listeners []net.Listener
	perIP     map[string]int
}

// NewServer makes an LMTP server that delivers into s.
func NewServer(s *storage.Store, o Options) *Server {
	o.setDefaults()
	srv := &Server{d: NewDeliverer(s, o), log: o.Logger, opts: o, perIP: map[string]int{}}
	srv.ctx, srv.cancel = context.WithCancel(context.Background())
	ss := smtp.NewServer(backend{srv})
	ss.LMTP = true
	ss.Domain = o.Hostname
	ss.MaxMessageBytes = max(o.MaxMessageSize-traceReserve, 1)
	ss.MaxRecipients = maxRecipients
	ss.MaxLineLength = 0 // conn enforces maxLine, faster (see listener.go)
	ss.EnableSMTPUTF8 = true
	ss.WriteTimeout = writeTimeout
	ss.ErrorLog = errorLog{o.Logger}
	srv.smtp = ss
	return srv
}

// Deliverer is the pipeline the server drives.
func (s *Server) Deliverer() *Deliverer { return s.d }

// Serve accepts connections on l until Shutdown, and returns nil then.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	l = &listener{Listener: l, s: s}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	err := s.smtp.Serve(l)
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return nil
	}
	return err
}

// Shutdown stops accepting, refuses new transactions, waits until the
// transactions in flight have been answered (or ctx ends), then closes
// every connection. A connection cut after the commit but before the 250
// would make the MTA deliver the message again.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.idle = make(chan struct{})
	if s.active == 0 {
		close(s.idle)
	}
	ls := s.listeners
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	var err error
	select {
	case <-s.idle:
	case <-ctx.Done():
		err = fmt.Errorf("lmtp: transactions still running: %w", ctx.Err())
	}
	if cerr := s.smtp.Close(); cerr != nil && err == nil && !errors.Is(cerr, net.ErrClosed) && !errors.Is(cerr, smtp.ErrServerClosed) {
		err = cerr
	}
	s.cancel()
	return err
}

// begin counts a transaction in, unless the server is closing.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.active++
	return true
}

// end counts a transaction out.
func (s *Server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active == 0 && s.closing {
		close(s.idle)
	}
}

// backend makes a session per connection.
type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, helo: c.Hostname(), remote: c.Conn().RemoteAddr()}, nil
}

// errorLog sends go-smtp's internal errors to the log.
type errorLog struct{ log *slog.Logger }

func (e errorLog) Printf(format string, v ...any) { e.log.Info("lmtp: " + fmt.Sprintf(format, v...)) }
func (e errorLog) Println(v ...any)               { e.log.Info("lmtp: " + fmt.Sprint(v...)) }
