package pop3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"letterbox/internal/netserve"
	"letterbox/storage"
)

// state is a POP3 session state (RFC 1939 section 3). UPDATE is not one:
// it is the QUIT handler's last step.
type state int

const (
	stateAuthorization state = 1 << iota
	stateTransaction
)

func (s state) String() string {
	if s == stateTransaction {
		return "TRANSACTION"
	}
	return "AUTHORIZATION"
}

// conn is one client connection; only its own goroutine uses it, except
// for the atomics Shutdown touches.
type conn struct {
	srv    *Server
	raw    net.Conn // as accepted: deadlines and Close go here, even under TLS
	nc     net.Conn // raw, or TLS over raw
	remote net.Addr
	br     *bufio.Reader
	bw     *bufio.Writer
	log    *slog.Logger
	// ctx is for storage calls. It is never cancelled: no call is worth
	// interrupting half-way, and a cancellable context costs database/sql
	// a goroutine per query, on every RETR.
	ctx   context.Context
	tls   bool
	state state
	done  bool // end the session after this reply

	timestamp string // APOP challenge sent in the greeting
	user      string // name from USER, waiting for PASS
	acct      *storage.Account
	drop      *maildrop
	lockedAs  string // account whose maildrop lock this session holds
	errors    int

	line    []byte // current command line
	copyBuf []byte // RETR/TOP streaming buffer

	intr netserve.Interrupt // Shutdown, and when it may cut a read short
}

// replyError is a -ERR reply: an optional response code (RFC 2449 section
// 8, RFC 3206) and a text for people.
type replyError struct {
	code string // without brackets; "" for none
	text string
}

func (e *replyError) Error() string { return e.text }

func errf(code, format string, args ...any) error {
	return &replyError{code, fmt.Sprintf(format, args...)}
}

// abortError ends the session without a reply: a failure after a positive
// reply was under way (RETR, TOP) cannot be reported in POP3 any other way.
type abortError struct{ err error }

func (e *abortError) Error() string {
	if e.err == nil {
		return "session ended"
	}
	return e.err.Error()
}
func (e *abortError) Unwrap() error { return e.err }

var errLineTooLong = errors.New("line too long")

func newConn(s *Server, nc net.Conn, isTLS bool) *conn {
	c := &conn{srv: s, raw: nc, nc: nc, remote: nc.RemoteAddr(), tls: isTLS, state: stateAuthorization}
	c.ctx = context.Background()
	c.log = s.logger().With("proto", "pop3", "remote", c.remote.String())
	c.br = bufio.NewReaderSize(nc, 4096)
	// Small until login: most connections never get further (scanners,
	// failed logins) and each costs its buffers.
	c.bw = bufio.NewWriterSize(c.socketWriter(), 4096)
	return c
}

// transactionWriterSize: after login, replies carry messages; a message of
// typical size then goes out in one write.
const transactionWriterSize = 64 << 10

// socketWriter is where c's buffered writes go: the connection, each
// write with the idle timeout.
func (c *conn) socketWriter() netserve.DeadlineWriter {
	return netserve.DeadlineWriter{Raw: c.raw, W: c.nc, Timeout: c.srv.idleTimeout()}
}

// Shutdown asks the session to end at its next command (netserve.Session).
func (c *conn) Shutdown() {
	c.intr.Shutdown(c.raw)
}

// Close drops the connection (netserve.Session).
func (c *conn) Close() { c.raw.Close() }

// Serve runs the session (netserve.Session).
func (c *conn) Serve() {
	defer c.finish()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("pop3 session panic", "panic", r)
		}
	}()
	if tc, ok := c.nc.(*tls.Conn); ok {
		c.raw.SetDeadline(time.Now().Add(time.Minute))
		if err := tc.Handshake(); err != nil {
			c.log.Debug("TLS handshake failed", "err", err)
			return
		}
		c.raw.SetDeadline(time.Time{})
	}
	c.timestamp = apopTimestamp(c.srv.hostname())
	c.writeLine("+OK Letterbox POP3 server ready " + c.timestamp)
	for !c.done {
		// RFC 2449 section 6.6 (PIPELINING): replies may go in groups, so
		// flush only when no further complete command is waiting.
		if !c.commandWaiting() {
			if err := c.bw.Flush(); err != nil {
				return
			}
		}
		line, err := c.readCommand()
		switch {
		case errors.Is(err, errLineTooLong):
			c.fail(errf("", "Line too long (at most %d bytes)", c.srv.maxLine()))
		case errors.Is(err, os.ErrDeadlineExceeded) && c.intr.Closing():
			c.writeLine("-ERR [SYS/TEMP] Server shutting down")
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.writeLine("-ERR Autologout; idle for too long")
			return
		case err != nil:
			return
		default:
			c.command(line)
		}
		if c.errors >= maxErrors && !c.done {
			c.writeLine("-ERR Too many errors; closing the connection")
			c.log.Info("too many errors; session ended", "errors", c.errors)
			return
		}
	}
}

// finish ends the session: flush what is pending, release the maildrop
// lock, close the socket. Nothing is deleted here (RFC 1939 section 6: only
// QUIT enters the UPDATE state).
func (c *conn) finish() {
	c.bw.Flush()
	if c.lockedAs != "" {
		c.srv.unlock(c.lockedAs, c)
	}
	c.nc.Close()
	c.raw.Close()
}

// commandWaiting reports whether a whole command line is already buffered.
func (c *conn) commandWaiting() bool {
	n := c.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := c.br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}

// readCommand waits for the next command line, with the idle timeout and
// the shutdown interrupt.
func (c *conn) readCommand() ([]byte, error) {
	c.raw.SetReadDeadline(time.Now().Add(c.srv.idleTimeout()))
	c.intr.Waiting(true)
	if c.intr.Closing() {
		c.intr.Waiting(false)
		return nil, os.ErrDeadlineExceeded
	}
	line, err := c.readLine()
	c.intr.Waiting(false)
	return line, err
}

// readLine reads one line and returns it without its line ending (CRLF,
// or a bare LF from a lax client). A line longer than MaxLine, line ending
// included, is read to its end, dropped, and reported as errLineTooLong.
func (c *conn) readLine() ([]byte, error) {
	c.line = c.line[:0]
	limit := c.srv.maxLine()
	tooLong := false
	for {
		frag, err := c.br.ReadSlice('\n')
		if !tooLong {
			if len(c.line)+len(frag) > limit {
				tooLong = true
				c.line = c.line[:0]
			} else {
				c.line = append(c.line, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if tooLong {
		return nil, errLineTooLong
	}
	line := bytes.TrimSuffix(c.line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// command parses and runs one command line, and answers it.
func (c *conn) command(line []byte) {
	name, args, err := parseLine(line)
	if err != nil {
		c.fail(err)
		return
	}
	cmd, ok := commands[name]
	if !ok {
		c.fail(errf("", "Unknown command"))
		return
	}
	if cmd.states&c.state == 0 {
		c.fail(errf("", "%s is not allowed in the %s state", name, c.state))
		return
	}
	if err := cmd.run(c, args); err != nil {
		c.fail(err)
		return
	}
	c.errors = 0
}

// fail is the one place errors become replies.
func (c *conn) fail(err error) {
	var re *replyError
	var ae *abortError
	switch {
	case errors.As(err, &re):
		c.errors++
		if re.code != "" {
			c.writeLine("-ERR [" + re.code + "] " + re.text)
		} else {
			c.writeLine("-ERR " + re.text)
		}
	case errors.As(err, &ae):
		if ae.err != nil && !isNetErr(ae.err) {
			c.log.Error("pop3 command failed after its reply began; session ended", "err", ae.err)
		}
		c.done = true
	case isNetErr(err):
		c.done = true
	default:
		// A storage or system failure: RFC 3206 section 4, SYS/TEMP.
		c.errors++
		c.log.Error("pop3 command failed", "err", err)
		c.writeLine("-ERR [SYS/TEMP] Internal error; try again later")
	}
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}

// writeLine queues one reply line; the CRLF is added here. Write errors
// surface at the next flush, which ends the session.
func (c *conn) writeLine(s string) {
	c.bw.WriteString(s)
	c.bw.WriteString("\r\n")
}

// apopTimestamp makes the greeting's msg-id (RFC 1939 section 7, APOP):
// unique for every greeting, so that a digest cannot be replayed.
func apopTimestamp(host string) string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("<%s.%d@%s>", hex.EncodeToString(b[:]), time.Now().Unix(), host)
}
