package lmtp

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// listener gives each connection an idle timeout and turns away a TCP
// client that already has MaxConnectionsPerIP connections.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := ""
		if tcp, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ip = tcp.IP.String()
		}
		if !l.s.admit(ip) {
			l.s.log.Warn("lmtp: too many connections", "ip", ip)
			go refuse(c)
			continue
		}
		return &conn{Conn: c, s: l.s, ip: ip}, nil
	}
}

// refuse answers a connection that is over the limit and closes it.
func refuse(c net.Conn) {
	r := replyTooManyConns()
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "%d %d.%d.%d %s\r\n", r.Code, r.EnhancedCode[0], r.EnhancedCode[1], r.EnhancedCode[2], r.Message)
	c.Close()
}

// admit counts a connection from ip in, unless ip has too many.
func (s *Server) admit(ip string) bool {
	if ip == "" || s.opts.MaxConnectionsPerIP <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip] >= s.opts.MaxConnectionsPerIP {
		return false
	}
	s.perIP[ip]++
	return true
}

func (s *Server) release(ip string) {
	if ip == "" || s.opts.MaxConnectionsPerIP <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}

// conn times out a read that waits longer than idleTimeout, and fails
// a line longer than maxLine with smtp.ErrTooLongLine (which go-smtp
// answers with 500 5.4.0 and a close).
//
// go-smtp can do both, but sets its read deadline once per command (so it
// would also bound the whole DATA transfer of a large message), and checks
// line length one byte at a time, which costs a tenth of the CPU of a
// large delivery; this jumps from line end to line end with IndexByte.
//
// It also holds replies back until it must wait for the client, and then
// sends them in one write: go-smtp writes each reply on its own, so a
// pipelined MAIL, RCPT and DATA (RFC 2920) took three writes and three
// wake-ups of the client where one does. RFC 2920 section 3.2 lets a
// server send its responses in groups.
type conn struct {
	net.Conn
	s       *Server
	ip      string
	once    sync.Once
	lineLen int // bytes since the last LF
	tooLong bool
	buf     []byte // read-ahead buffer
	ahead   []byte // what buf holds that was not read yet
	rerr    error  // the read error that comes after ahead

	wmu  sync.Mutex // the DATA goroutine may read while replies are written
	wbuf []byte     // replies not sent yet
	werr error      // the write error that ended the connection
}

// maxHeldReplies bounds what Write holds back before it sends anyway.
const maxHeldReplies = 16 << 10

func (c *conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	c.wbuf = append(c.wbuf, p...)
	if len(c.wbuf) >= maxHeldReplies {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flush sends the replies held back.
func (c *conn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

func (c *conn) flushLocked() error {
	if c.werr != nil || len(c.wbuf) == 0 {
		return c.werr
	}
	_, err := c.Conn.Write(c.wbuf)
	c.wbuf = c.wbuf[:0]
	if err != nil {
		c.werr = err
	}
	return err
}

// readAhead is the size of the reads from the socket. go-smtp reads
// through a 4 KB buffer: a 1 MB message would take 256 system calls.
const readAhead = 64 << 10

func (c *conn) Read(p []byte) (int, error) {
	if c.tooLong {
		return 0, smtp.ErrTooLongLine
	}
	var n int
	var err error
	if len(c.ahead) > 0 {
		n = copy(p, c.ahead)
		c.ahead = c.ahead[n:]
	} else if c.rerr != nil {
		return 0, c.rerr
	} else if ferr := c.flush(); ferr != nil {
		// The client must have every reply before we wait for it.
		return 0, ferr
	} else if len(p) >= readAhead {
		c.Conn.SetReadDeadline(time.Now().Add(idleTimeout))
		n, err = c.Conn.Read(p)
	} else {
		if c.buf == nil {
			c.buf = make([]byte, readAhead)
		}
		c.Conn.SetReadDeadline(time.Now().Add(idleTimeout))
		var m int
		m, err = c.Conn.Read(c.buf)
		n = copy(p, c.buf[:m])
		c.ahead = c.buf[n:m]
		if len(c.ahead) > 0 && err != nil {
			c.rerr, err = err, nil // after what is left
		}
	}
	for b := p[:n]; ; {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.lineLen += len(b)
			break
		}
		if c.lineLen+i > maxLine {
			c.lineLen += i
			break
		}
		c.lineLen = 0
		b = b[i+1:]
	}
	if c.lineLen > maxLine {
		// As go-smtp's own limit: the chunk is dropped and the
		// connection is done for.
		c.tooLong = true
		return 0, smtp.ErrTooLongLine
	}
	return n, err
}

// Close sends the replies still held back (a 221 to QUIT, a 421), giving a
// client that does not read a few seconds.
func (c *conn) Close() error {
	c.once.Do(func() { c.s.release(c.ip) })
	c.Conn.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
	c.flush()
	return c.Conn.Close()
}

const closeFlushTimeout = 5 * time.Second
