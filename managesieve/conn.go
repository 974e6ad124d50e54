package managesieve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"letterbox/internal/netserve"
	"letterbox/storage"
)

// conn is one client connection; only its own goroutine uses it, except
// for Shutdown and Close, which netserve calls.
type conn struct {
	srv    *Server
	raw    net.Conn // as accepted: deadlines and Close go here, even under TLS
	nc     net.Conn // raw, or TLS over raw after STARTTLS
	remote net.Addr
	br     *bufio.Reader
	bw     *bufio.Writer
	p      parser
	log    *slog.Logger
	// ctx is for storage calls; never cancelled (see pop3's conn).
	ctx    context.Context
	tls    bool
	acct   *storage.Account // nil until AUTHENTICATE succeeds
	errors int              // NO replies in a row
	done   bool             // end the session after this reply

	intr netserve.Interrupt // Shutdown, and when it may cut a read short
}

// noError is a NO reply: an optional response code (RFC 5804 section 1.3)
// and a text for people.
type noError struct {
	code string // without parentheses; "" for none
	text string
}

func (e *noError) Error() string { return e.text }

func no(code, format string, args ...any) error {
	return &noError{code, fmt.Sprintf(format, args...)}
}

// errAbort ends the session without a reply (a failed TLS handshake).
var errAbort = errors.New("session aborted")

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, raw: nc, nc: nc, remote: nc.RemoteAddr(), ctx: context.Background()}
	c.log = s.logger().With("proto", "managesieve", "remote", c.remote.String())
	c.br = bufio.NewReaderSize(nc, 4096)
	c.bw = bufio.NewWriterSize(c.socketWriter(), 4096)
	c.p = parser{br: c.br, maxLine: s.maxLine()}
	return c
}

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
			c.log.Error("managesieve session panic", "panic", r)
		}
	}()
	// RFC 5804 section 1.7: the greeting is the capabilities and an OK.
	c.writeCapabilities()
	c.writeResponse("OK", "", "Letterbox ManageSieve ready")
	for !c.done {
		// Commands sent without waiting get their replies together.
		if c.br.Buffered() == 0 {
			if err := c.bw.Flush(); err != nil {
				return
			}
		}
		args, err := c.readCommand()
		var se *syntaxError
		var big *tooBigError
		switch {
		case err == nil:
			c.command(args)
		case errors.As(err, &se):
			c.fail(no("", "%s", se.msg))
		case errors.As(err, &big):
			c.fail(tooBig(big))
		case errors.Is(err, errTooLong):
			c.writeResponse("BYE", "", "Command too long")
			return
		case errors.Is(err, os.ErrDeadlineExceeded) && c.intr.Closing():
			c.writeResponse("BYE", "TRYLATER", "Server shutting down")
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.writeResponse("BYE", "", "Idle for too long")
			return
		default:
			return
		}
		limit := maxErrors
		if c.acct == nil {
			limit = maxErrorsPreAuth
		}
		if c.errors >= limit && !c.done {
			c.writeResponse("BYE", "", "Too many errors")
			c.log.Info("too many errors; session ended", "errors", c.errors)
			return
		}
	}
}

// tooBig is the reply to a command with a literal over its budget: only a
// script can be big enough for that after login.
func tooBig(e *tooBigError) error {
	if len(e.args) > 0 {
		switch strings.ToUpper(e.args[0].s) {
		case "PUTSCRIPT", "CHECKSCRIPT":
			return no("QUOTA/MAXSIZE", "Script too big (%d octets)", e.size)
		}
	}
	return no("", "String too long (%d octets)", e.size)
}

func (c *conn) finish() {
	c.bw.Flush()
	c.nc.Close()
	c.raw.Close()
}

// readCommand waits for the next command, with the idle timeout and the
// shutdown interrupt.
func (c *conn) readCommand() ([]arg, error) {
	timeout := c.srv.idleTimeout()
	if c.acct == nil {
		timeout = min(timeout, preAuthTimeout)
	}
	c.raw.SetReadDeadline(time.Now().Add(timeout))
	c.intr.Waiting(true)
	defer c.intr.Waiting(false)
	if c.intr.Closing() {
		return nil, os.ErrDeadlineExceeded
	}
	budget := c.srv.maxLine()
	c.p.maxSkip = 0
	if c.acct != nil {
		budget += c.srv.maxScriptSize()
		c.p.maxSkip = max(4*int64(budget), maxSkip)
	}
	return c.p.readArgs(budget)
}

// maxSkip: after login, a literal past the command's budget (a script
// too big) is read and dropped if it is no bigger than this, or four
// times the budget, so that the client gets NO (QUOTA/MAXSIZE) and the
// session goes on; a bigger one ends the session. Before login, any
// literal past the budget ends it.
const maxSkip = 64 << 20

// command runs one command and answers it.
func (c *conn) command(args []arg) {
	if !args[0].atom {
		c.fail(no("", "A command name must be an atom"))
		return
	}
	name := strings.ToUpper(args[0].s)
	cmd, ok := commands[name]
	switch {
	case !ok:
		c.fail(no("", "Unknown command"))
		return
	case cmd.auth && c.acct == nil:
		c.fail(no("", "%s needs AUTHENTICATE first", name))
		return
	case cmd.preAuth && c.acct != nil:
		c.fail(no("", "%s is not allowed after AUTHENTICATE", name))
		return
	}
	if err := cmd.run(c, args[1:]); err != nil {
		c.fail(err)
		return
	}
	c.errors = 0
}

// fail is the one place errors become replies.
func (c *conn) fail(err error) {
	var ne *noError
	switch {
	case errors.As(err, &ne):
		c.errors++
		c.writeResponse("NO", ne.code, ne.text)
	case errors.Is(err, errAbort) || isNetErr(err):
		c.done = true
	default:
		// A storage or system failure: RFC 5804 section 1.3, TRYLATER.
		c.errors++
		c.log.Error("managesieve command failed", "err", err)
		c.writeResponse("NO", "TRYLATER", "Internal error; try again later")
	}
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}

// writeCapabilities sends one line per capability (RFC 5804 section 1.7).
func (c *conn) writeCapabilities() {
	s := c.srv
	c.writeCapability("IMPLEMENTATION", implementation)
	mechs := ""
	if c.cleartextOK() {
		mechs = "PLAIN LOGIN"
	}
	// Without a usable mechanism the list is empty, not absent, as
	// Dovecot sends it before STARTTLS.
	c.writeCapability("SASL", mechs)
	c.writeCapability("SIEVE", strings.Join(s.Extensions, " "))
	if s.TLS != nil && !c.tls && c.acct == nil { // STARTTLS is refused after login
		c.bw.WriteString("\"STARTTLS\"\r\n")
	}
	if s.MaxRedirects > 0 {
		c.writeCapability("MAXREDIRECTS", strconv.Itoa(s.MaxRedirects))
	}
	if len(s.NotifyMethods) > 0 {
		c.writeCapability("NOTIFY", strings.Join(s.NotifyMethods, " "))
	}
	if c.acct != nil {
		c.writeCapability("OWNER", c.acct.Name)
	}
	c.bw.WriteString("\"UNAUTHENTICATE\"\r\n")
	c.writeCapability("VERSION", "1.0")
}

func (c *conn) writeCapability(name, value string) {
	c.bw.WriteString(encodeString(name) + " " + encodeString(value) + "\r\n")
}

// writeResponse writes OK, NO or BYE with an optional response code and
// text (RFC 5804 section 4, response-oknobye).
func (c *conn) writeResponse(kind, code, text string) {
	c.bw.WriteString(kind)
	if code != "" {
		c.bw.WriteString(" (" + code + ")")
	}
	if text != "" {
		c.bw.WriteString(" " + encodeString(text))
	}
	c.bw.WriteString("\r\n")
}

// ok writes an OK reply; handlers return its nil error.
func (c *conn) ok(code, text string) error {
	c.writeResponse("OK", code, text)
	return nil
}

// encodeString is s as a ManageSieve string: quoted when RFC 5804 allows
// it (at most 1024 octets of UTF-8 without CR, LF or NUL), a literal
// otherwise.
func encodeString(s string) string {
	if len(s) <= 1024 && utf8.ValidString(s) && !strings.ContainsAny(s, "\r\n\x00") {
		if !strings.ContainsAny(s, `"\`) {
			return `"` + s + `"`
		}
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte('"')
		return b.String()
	}
	return "{" + strconv.Itoa(len(s)) + "}\r\n" + s
}

// cleartextOK says whether a password may be sent on this connection now.
func (c *conn) cleartextOK() bool {
	return c.tls || c.srv.CleartextAllowed != nil && c.srv.CleartextAllowed(c.remote)
}
