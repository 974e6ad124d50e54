package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"letterbox/internal/netserve"
	"letterbox/storage"
)

type state int

const (
	stateNotAuth state = 1 << iota
	stateAuth
	stateSelected
	stateLogout

	anyState = stateNotAuth | stateAuth | stateSelected
	authed   = stateAuth | stateSelected
)

// conn is one client connection; only its own goroutine uses it, except
// for Shutdown and Close, which netserve calls.
type conn struct {
	srv   *Server
	raw   net.Conn // as accepted, never replaced: Shutdown and Close use it
	nc    net.Conn // raw, or TLS over raw after STARTTLS
	br    *bufio.Reader
	w     writer
	p     parser
	log   *slog.Logger
	ctx   context.Context
	state state
	tls   bool

	acct *storage.Account
	sel  *selected

	rev2, utf8Accept bool // ENABLEd (RFC 9051, RFC 6855)
	searchRes        []storage.UID

	// cmd is the command being run, for its replies.
	cmd     string
	uidCmd  bool
	badCmds int

	userSlot string // account counted against MaxConnsPerUser
	preAuth  rateLimit

	intr netserve.Interrupt // Shutdown, and when it may cut a read short
}

// respError is a tagged NO or BAD with an optional response code.
type respError struct {
	status string // "NO" or "BAD"
	code   string // e.g. "TRYCREATE", without brackets
	text   string
}

func (e *respError) Error() string { return e.status + " " + e.text }

func no(code, format string, args ...any) error {
	return &respError{"NO", code, fmt.Sprintf(format, args...)}
}

func bad(format string, args ...any) error {
	return &respError{"BAD", "", fmt.Sprintf(format, args...)}
}

// errLogout ends the session after the tagged reply.
var errLogout = errors.New("logout")

func newConn(s *Server, nc net.Conn, isTLS bool) *conn {
	c := &conn{srv: s, raw: nc, nc: nc, state: stateNotAuth, tls: isTLS, ctx: context.Background()}
	c.log = s.Log.With("remote", nc.RemoteAddr().String())
	c.br = bufio.NewReaderSize(nc, 4096)
	c.w.w = bufio.NewWriterSize(nc, 4096)
	c.p = parser{r: c.br, cont: c.continuation, literalPlus: true}
	return c
}

func (c *conn) continuation(text string) error {
	c.w.cont(text)
	return c.w.flush()
}

// Shutdown asks the session to end between commands (netserve.Session).
func (c *conn) Shutdown() {
	c.intr.Shutdown(c.raw)
}

// Close drops the connection (netserve.Session).
func (c *conn) Close() { c.raw.Close() }

// Serve runs the session (netserve.Session).
func (c *conn) Serve() {
	defer c.nc.Close()
	defer func() {
		if c.userSlot != "" {
			c.srv.releaseUser(c.userSlot)
		}
	}()
	defer func() {
		if c.sel != nil {
			c.sel.close()
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("imap session panic", "panic", r)
		}
	}()
	if tc, ok := c.nc.(*tls.Conn); ok {
		tc.SetDeadline(time.Now().Add(idleTimeoutPreAuth))
		if err := tc.Handshake(); err != nil {
			return
		}
		tc.SetDeadline(time.Time{})
	}
	c.w.raw("* OK [CAPABILITY " + c.capabilities() + "] Letterbox ready")
	c.w.crlf()
	for c.state != stateLogout {
		if err := c.w.flush(); err != nil {
			return
		}
		if c.intr.Closing() {
			c.w.untagged("BYE Server shutting down")
			c.w.flush()
			return
		}
		if !c.command() {
			c.w.flush()
			return
		}
	}
	c.w.flush()
}

// command reads and runs one command; false ends the connection.
func (c *conn) command() bool {
	timeout := idleTimeoutPreAuth
	if c.state != stateNotAuth {
		timeout = idleTimeoutAuth
	}
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	c.intr.Waiting(true)
	err := c.p.readLine()
	c.intr.Waiting(false)
	c.nc.SetReadDeadline(time.Time{})
	if err != nil {
		var se errSyntax
		if errors.As(err, &se) {
			c.w.untagged("BAD " + se.msg)
			return c.tooManyBad()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if c.intr.Closing() {
				c.w.untagged("BYE Server shutting down")
			} else {
				c.w.untagged("BYE Autologout; idle for too long")
			}
			c.w.flush()
		}
		return false
	}
	if len(c.p.line) == 0 {
		return true // RFC 9051 has no empty commands; ignore blank lines
	}
	if c.state == stateNotAuth {
		c.preAuth.wait()
	}
	tag, err := c.p.word("")
	if err != nil || tag == "+" || tag == "*" {
		c.w.untagged("BAD Invalid tag")
		c.p.skipCommand()
		return c.tooManyBad()
	}
	c.uidCmd = false
	name, err := c.commandName()
	if err != nil {
		return c.finish(tag, err)
	}
	h, ok := commands[name]
	if !ok {
		if c.state == stateNotAuth {
			// Cross-protocol safety: something that is not speaking IMAP.
			c.w.untagged("BYE Unknown command before login; closing")
			return false
		}
		return c.finish(tag, bad("Unknown command %s", name))
	}
	if h.states&c.state == 0 {
		return c.finish(tag, bad("%s is not allowed in this state", name))
	}
	c.cmd = name
	text, err := h.run(c, tag)
	if err == nil {
		c.afterCommand(h)
	}
	return c.finishOK(tag, text, err)
}

// commandName reads the command name, folding "UID X" into X with uidCmd set.
func (c *conn) commandName() (string, error) {
	if err := c.p.sp(); err != nil {
		return "", bad("Missing command")
	}
	name, err := c.p.atom()
	if err != nil {
		return "", bad("Missing command")
	}
	name = strings.ToUpper(name)
	if name == "UID" {
		if err := c.p.sp(); err != nil {
			return "", err
		}
		sub, err := c.p.atom()
		if err != nil {
			return "", err
		}
		c.uidCmd = true
		name = strings.ToUpper(sub)
		switch name {
		case "FETCH", "STORE", "SEARCH", "COPY", "MOVE", "EXPUNGE", "SORT", "THREAD":
		default:
			return "", bad("UID %s is not a command", name)
		}
	}
	return name, nil
}

// afterCommand delivers the mailbox changes the command may carry.
func (c *conn) afterCommand(h handler) {
	if c.sel == nil || h.noUpdates {
		return
	}
	// RFC 9051 section 7.5.1: no EXPUNGE during FETCH, STORE, SEARCH by
	// sequence number.
	allowExpunge := c.uidCmd || !h.seqSensitive
	c.sel.sync(c, allowExpunge, false)
}

func (c *conn) finish(tag string, err error) bool { return c.finishOK(tag, "", err) }

// finishOK writes the tagged reply; false ends the connection.
func (c *conn) finishOK(tag, text string, err error) bool {
	var se errSyntax
	var re *respError
	switch {
	case errors.Is(err, errAlreadyAnswered):
		return true
	case err == nil:
		if text == "" {
			text = c.cmd + " completed"
		}
		c.w.tagged(tag, "OK", text)
		c.badCmds = 0
		return true
	case errors.Is(err, errLogout):
		c.w.untagged("BYE Logging out")
		c.w.tagged(tag, "OK", "LOGOUT completed")
		c.state = stateLogout
		return true
	case errors.As(err, &se):
		if serr := c.p.skipCommand(); serr != nil {
			return false
		}
		c.w.tagged(tag, "BAD", se.msg)
		return c.tooManyBad()
	case errors.As(err, &re):
		if serr := c.p.skipCommand(); serr != nil {
			return false
		}
		t := re.text
		if re.code != "" {
			t = "[" + re.code + "] " + t
		}
		c.w.tagged(tag, re.status, t)
		if re.status == "BAD" {
			return c.tooManyBad()
		}
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), isNetErr(err):
		return false
	default:
		// A storage error we have no better answer for.
		if serr := c.p.skipCommand(); serr != nil {
			return false
		}
		code, msg := storageReply(err)
		if code == "SERVERBUG" {
			c.log.Error("imap command failed", "cmd", c.cmd, "err", err)
		}
		c.w.tagged(tag, "NO", "["+code+"] "+msg)
		return true
	}
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// tooManyBad ends sessions that send nothing but garbage.
func (c *conn) tooManyBad() bool {
	c.badCmds++
	if c.badCmds >= 20 {
		c.w.untagged("BYE Too many invalid commands")
		return false
	}
	return true
}

// storageReply maps a storage error to a response code and text.
func storageReply(err error) (code, text string) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "NONEXISTENT", "No such mailbox or message"
	case errors.Is(err, storage.ErrExists):
		return "ALREADYEXISTS", "Mailbox already exists"
	case errors.Is(err, storage.ErrInvalidName):
		return "CANNOT", trimErr(err)
	case errors.Is(err, storage.ErrOverQuota):
		return "OVERQUOTA", "Quota exceeded"
	case errors.Is(err, storage.ErrTooBig):
		return "TOOBIG", "Message too large"
	case errors.Is(err, storage.ErrNotEmpty):
		return "CANNOT", "Mailbox has children; delete them first"
	case errors.Is(err, storage.ErrInboxProtect):
		return "CANNOT", "INBOX cannot be deleted"
	case errors.Is(err, context.Canceled):
		return "UNAVAILABLE", "Server shutting down"
	}
	return "SERVERBUG", "Internal error; try again later"
}

func trimErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "invalid name: "); i >= 0 {
		s = s[i+len("invalid name: "):]
	}
	return s
}

// capabilities lists what this connection can use now (RFC 9051 7.2.2).
func (c *conn) capabilities() string {
	caps := []string{"IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE", "NAMESPACE", "UNSELECT",
		"UIDPLUS", "MOVE", "CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "CREATE-SPECIAL-USE",
		"ESEARCH", "SEARCHRES", "MULTIAPPEND", "BINARY", "UTF8=ACCEPT", "STATUS=SIZE", "UNAUTHENTICATE"}
	if c.srv.MaxMessageSize > 0 {
		caps = append(caps, fmt.Sprintf("APPENDLIMIT=%d", c.srv.MaxMessageSize))
	}
	if c.state == stateNotAuth {
		if !c.tls && c.srv.TLS != nil {
			caps = append(caps, "STARTTLS")
		}
		if c.loginAllowed() {
			caps = append(caps, "AUTH=PLAIN", "AUTH=LOGIN")
		} else {
			caps = append(caps, "LOGINDISABLED")
		}
	}
	return strings.Join(caps, " ")
}

// loginAllowed: over TLS, or where cleartext logins are allowed.
func (c *conn) loginAllowed() bool {
	if c.tls {
		return true
	}
	if c.srv.CleartextAllowed == nil {
		return false
	}
	return c.srv.CleartextAllowed(c.nc.RemoteAddr())
}

// rateLimit paces commands before login: a burst of preAuthBurst, then
// preAuthRate per second. Slows down password guessing and floods.
type rateLimit struct {
	tokens float64
	last   time.Time
}

const (
	preAuthBurst = 10
	preAuthRate  = 5
)

func (r *rateLimit) wait() {
	now := time.Now()
	if r.last.IsZero() {
		r.tokens = preAuthBurst
	} else {
		r.tokens = min(preAuthBurst, r.tokens+now.Sub(r.last).Seconds()*preAuthRate)
	}
	r.last = now
	if r.tokens < 1 {
		d := time.Duration((1 - r.tokens) / preAuthRate * float64(time.Second))
		time.Sleep(d)
		r.tokens = 1
		r.last = time.Now()
	}
	r.tokens--
}
