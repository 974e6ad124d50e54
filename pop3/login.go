package pop3

import (
	"bufio"
	"crypto/md5"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"letterbox/auth"
	"letterbox/internal/netserve"
	"letterbox/storage"
)

// cmdUser names the account for PASS (RFC 1939 section 7). Every name is
// accepted here, so that USER cannot be used to find which accounts exist.
func cmdUser(c *conn, args string) error {
	c.user = ""
	if !c.cleartextOK() {
		return c.errCleartext()
	}
	name := strings.TrimSpace(args)
	if name == "" {
		return errf("", "USER needs a name")
	}
	c.user = name
	return c.ok("Send PASS")
}

// cmdPass takes the whole rest of the line as the password: RFC 1939
// section 7 lets a server treat spaces in it as part of the password.
func cmdPass(c *conn, args string) error {
	user := c.user
	c.user = "" // after any PASS, a new attempt starts with USER
	if user == "" {
		return errf("", "Send USER first")
	}
	if !c.cleartextOK() {
		return c.errCleartext()
	}
	return c.login(user, args, "USER")
}

// cmdApop checks MD5(timestamp + password) (RFC 1939 section 7). It needs
// the stored password in clear, which only {PLAIN}-type hashes keep; other
// accounts fail APOP as a wrong password would, as in Dovecot.
func cmdApop(c *conn, args string) error {
	f := fields(args)
	if len(f) != 2 {
		return errf("", "APOP needs a name and a digest")
	}
	if !c.cleartextOK() {
		return c.errCleartext()
	}
	want, err := hex.DecodeString(f[1])
	if err != nil || len(want) != md5.Size {
		return errf("", "The APOP digest must be 32 hexadecimal digits")
	}
	ip, user := netserve.HostOf(c.remote), normalizeLogin(f[0])
	if err := c.throttle(ip, user); err != nil {
		return err
	}
	acct, err := c.srv.Store.Account(c.ctx, user)
	var secret string
	known := false
	switch {
	case err == nil:
		secret, known = auth.PlaintextPassword(acct.PasswordHash)
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrNoDomain), errors.Is(err, storage.ErrInvalidName):
	default:
		c.log.Error("APOP: look up account", "user", user, "err", err)
		return errf("SYS/TEMP", "Authentication is temporarily unavailable")
	}
	sum := md5.Sum([]byte(c.timestamp + secret))
	if subtle.ConstantTimeCompare(sum[:], want) != 1 || !known {
		return c.loginFailed(ip, user, "APOP")
	}
	return c.loggedIn(acct, ip, "APOP")
}

// cmdAuth runs a SASL exchange (RFC 5034 section 4). A bare AUTH lists the
// mechanisms, as RFC 1734 clients expect.
func cmdAuth(c *conn, args string) error {
	f := fields(args)
	if len(f) == 0 {
		c.writeLine("+OK Mechanisms follow")
		if c.cleartextOK() {
			c.writeLine("PLAIN")
			c.writeLine("LOGIN")
		}
		c.writeLine(".")
		return nil
	}
	if len(f) > 2 {
		return errf("", "AUTH takes a mechanism and an optional initial response")
	}
	if !c.cleartextOK() {
		return c.errCleartext()
	}
	var user, pass string
	var mech sasl.Server
	name := strings.ToUpper(f[0])
	switch name {
	case sasl.Plain:
		mech = sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && !strings.EqualFold(identity, username) {
				return errors.New("proxy authorization is not supported")
			}
			user, pass = username, password
			return nil
		})
	case sasl.Login:
		mech = auth.NewLoginServer(func(username, password string) { user, pass = username, password })
	default:
		return errf("", "Unsupported authentication mechanism")
	}
	var resp []byte // nil: no initial response
	if len(f) == 2 {
		resp = []byte{} // "=" is an empty initial response
		if f[1] != "=" {
			var err error
			if resp, err = base64.StdEncoding.DecodeString(f[1]); err != nil {
				return errf("", "Invalid base64 in the initial response")
			}
		}
	}
	for {
		challenge, done, err := mech.Next(resp)
		if err != nil {
			return errf("AUTH", "Authentication failed")
		}
		if done {
			break
		}
		// RFC 5034 section 4: "+", one space, the base64 challenge.
		c.writeLine("+ " + base64.StdEncoding.EncodeToString(challenge))
		if err := c.bw.Flush(); err != nil {
			return err
		}
		c.raw.SetReadDeadline(time.Now().Add(c.srv.idleTimeout()))
		line, err := c.readLine()
		if errors.Is(err, errLineTooLong) {
			return errf("", "SASL response too long")
		}
		if err != nil {
			return err
		}
		if string(line) == "*" {
			return errf("", "Authentication cancelled")
		}
		if resp, err = base64.StdEncoding.DecodeString(string(line)); err != nil {
			return errf("", "Invalid base64 in the SASL response")
		}
	}
	return c.login(user, pass, "AUTH "+name)
}

// cmdStls starts TLS (RFC 2595 section 4).
func cmdStls(c *conn, args string) error {
	switch {
	case args != "":
		return errf("", "STLS takes no arguments")
	case c.tls:
		return errf("", "TLS is already active")
	case c.srv.TLS == nil:
		return errf("", "STLS is not available")
	case c.br.Buffered() > 0:
		// The client must wait for our reply and the handshake; bytes sent
		// before it would be taken as if protected (CVE-2011-0411).
		return errf("", "Commands sent after STLS must wait for the TLS handshake")
	}
	c.writeLine("+OK Begin TLS negotiation")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	tc := tls.Server(c.raw, c.srv.TLS)
	c.raw.SetDeadline(time.Now().Add(time.Minute))
	if err := tc.Handshake(); err != nil {
		c.log.Info("STLS handshake failed", "err", err)
		return &abortError{}
	}
	c.raw.SetDeadline(time.Time{})
	c.nc, c.tls = tc, true
	c.br.Reset(tc)
	c.bw.Reset(c.socketWriter())
	// Forget what the client said before TLS (RFC 2595 section 4 asks the
	// client to forget the capabilities; a USER name belongs with them).
	c.user = ""
	return nil
}

// login checks a user name and password (USER/PASS, AUTH) and opens the
// maildrop.
func (c *conn) login(user, pass, method string) error {
	ip := netserve.HostOf(c.remote)
	user = normalizeLogin(user)
	if err := c.throttle(ip, user); err != nil {
		return err
	}
	acct, err := c.srv.Auth.Authenticate(c.ctx, user, pass)
	if errors.Is(err, auth.ErrBadCredentials) {
		return c.loginFailed(ip, user, method)
	}
	if err != nil {
		c.log.Error("login", "user", user, "err", err)
		return errf("SYS/TEMP", "Authentication is temporarily unavailable")
	}
	return c.loggedIn(acct, ip, method)
}

// throttle makes a login attempt wait as long as the throttle asks, or
// refuses it: temporarily, so SYS/TEMP (RFC 3206 section 4), which a
// client reports without discarding a password that may be right.
func (c *conn) throttle(ip, user string) error {
	t := c.srv.Throttle
	if t == nil {
		return nil
	}
	wait, refused := t.Check(ip, user)
	if refused {
		c.log.Info("login refused: too many failures", "user", user)
		return errf("SYS/TEMP", "Too many failed logins; try again later")
	}
	if wait > 0 {
		if err := c.flush(); err != nil {
			return err
		}
		time.Sleep(wait) // at most Throttle.Max

	}
	return nil
}

func (c *conn) loginFailed(ip, user, method string) error {
	if c.srv.Throttle != nil {
		c.srv.Throttle.Failed(ip, user)
	}
	c.log.Info("login failed", "user", user, "method", method)
	return errf("AUTH", "Authentication failed")
}

// loggedIn locks the maildrop, takes the INBOX snapshot and enters the
// TRANSACTION state.
func (c *conn) loggedIn(acct *storage.Account, ip, method string) error {
	if c.srv.Throttle != nil {
		c.srv.Throttle.Succeeded(ip, acct.Name)
	}
	if !c.srv.lock(acct.Name, c) {
		c.log.Info("login refused: maildrop in use", "user", acct.Name)
		return errf("IN-USE", "Mailbox is in use by another POP3 session")
	}
	c.lockedAs = acct.Name
	drop, err := openMaildrop(c.ctx, c.srv.Store, acct)
	if err != nil {
		c.srv.unlock(acct.Name, c)
		c.lockedAs = ""
		return fmt.Errorf("open INBOX of %s: %w", acct.Name, err)
	}
	c.acct, c.drop, c.state = acct, drop, stateTransaction
	if err := c.bw.Flush(); err != nil {
		return err
	}
	c.bw = bufio.NewWriterSize(c.socketWriter(), transactionWriterSize)
	c.log = c.log.With("user", acct.Name)
	c.log.Info("login", "method", method, "tls", c.tls, "messages", drop.count)
	return c.ok(fmt.Sprintf("Maildrop locked and ready: %d messages (%d octets)", drop.count, drop.size))
}

// ok writes a one-line positive reply.
func (c *conn) ok(text string) error {
	if text == "" {
		c.writeLine("+OK")
	} else {
		c.writeLine("+OK " + text)
	}
	return nil
}

func (c *conn) flush() error { return c.bw.Flush() }
