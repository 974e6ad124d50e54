package netserve

import (
	"net"
	"sync/atomic"
	"time"
)

// Interrupt is how Session.Shutdown, called from another goroutine, ends
// a session at the right moment: at once when it is blocked waiting for a
// command (the read is woken by a deadline in the past), else when it
// next looks at Closing. Its zero value is ready to use.
type Interrupt struct {
	closing atomic.Bool // Shutdown asked the session to end
	waiting atomic.Bool // blocked reading a command: safe to interrupt
}

// Shutdown asks the session on conn (the connection as accepted, where
// deadlines go even under TLS) to end.
func (i *Interrupt) Shutdown(conn net.Conn) {
	i.closing.Store(true)
	if i.waiting.Load() {
		conn.SetReadDeadline(time.Now())
	}
}

// Closing reports whether Shutdown was called.
func (i *Interrupt) Closing() bool { return i.closing.Load() }

// Waiting says whether the session is now blocked waiting for a command.
func (i *Interrupt) Waiting(on bool) { i.waiting.Store(on) }

// DeadlineWriter gives every write IdleTimeout to finish, so that a client
// that stops reading cannot hold a session forever, while a slow one can
// still fetch a large message.
type DeadlineWriter struct {
	Raw     net.Conn // as accepted: deadlines go here, even under TLS
	W       net.Conn // Raw, or TLS over Raw
	Timeout time.Duration
}

func (w DeadlineWriter) Write(b []byte) (int, error) {
	w.Raw.SetWriteDeadline(time.Now().Add(w.Timeout))
	return w.W.Write(b)
}
