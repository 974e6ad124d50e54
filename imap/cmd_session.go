package imap

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"letterbox/auth"
	"letterbox/internal/netserve"
)

func cmdCapability(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	c.w.untagged("CAPABILITY " + c.capabilities())
	return "", nil
}

func cmdNoop(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	if c.sel != nil {
		if err := c.sel.sync(c, true, true); err != nil && c.state != stateLogout {
			return "", err
		}
	}
	return "", nil
}

func cmdLogout(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	return "", errLogout
}

// cmdID answers ID (RFC 2971); the client's fields are only logged.
func cmdID(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	var fields []string
	if c.p.peek() == '(' {
		n := 0
		err := c.p.list(func() error {
			s, _, err := c.p.nstring()
			n++
			if n > 60 || len(s) > 1024 {
				return bad("ID has too many or too long fields")
			}
			fields = append(fields, s)
			return err
		})
		if err != nil {
			return "", err
		}
	} else if _, ok, err := c.p.nstring(); err != nil || ok {
		return "", bad("ID takes a list or NIL")
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	if len(fields) > 0 {
		c.log.Debug("client id", "fields", fields)
	}
	c.w.untagged(`ID ("name" "Letterbox" "vendor" "Letterbox" "support-url" "https://letterbox.invalid/")`)
	return "", nil
}

func cmdStartTLS(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	if c.tls || c.srv.TLS == nil {
		return "", bad("STARTTLS is not available")
	}
	// RFC 9051 section 6.2.1: pipelined commands after STARTTLS are not
	// allowed; anything already buffered is an attack (CVE-2011-0411 kind).
	if c.br.Buffered() > 0 {
		return "", bad("Data after STARTTLS")
	}
	c.w.tagged(tag, "OK", "Begin TLS negotiation now")
	if err := c.w.flush(); err != nil {
		return "", err
	}
	tc := tls.Server(c.nc, c.srv.TLS)
	tc.SetDeadline(time.Now().Add(idleTimeoutPreAuth))
	if err := tc.Handshake(); err != nil {
		return "", err
	}
	tc.SetDeadline(time.Time{})
	c.nc, c.tls = tc, true
	c.br.Reset(tc)
	c.w.w.Reset(tc)
	return "", errAlreadyAnswered
}

// errAlreadyAnswered: the handler wrote its tagged reply itself.
var errAlreadyAnswered = errors.New("answered")

func cmdLogin(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	user, err := c.p.astring()
	if err != nil {
		return "", err
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	pass, err := c.p.astring()
	if err != nil {
		return "", err
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	if !c.loginAllowed() {
		return "", no("PRIVACYREQUIRED", "Cleartext logins are disabled here; use STARTTLS")
	}
	return c.login(user, pass)
}

// login checks credentials with throttling, and enters authenticated state.
func (c *conn) login(user, pass string) (string, error) {
	ip := netserve.HostOf(c.nc.RemoteAddr())
	user = strings.ToLower(user)
	if t := c.srv.Throttle; t != nil {
		wait, refused := t.Check(ip, user)
		if refused {
			return "", no("UNAVAILABLE", "Too many failed logins; try again later")
		}
		time.Sleep(wait)
	}
	acct, err := c.srv.Auth.Authenticate(c.ctx, user, pass)
	if errors.Is(err, auth.ErrBadCredentials) {
		if c.srv.Throttle != nil {
			c.srv.Throttle.Failed(ip, user)
		}
		c.log.Info("login failed", "user", user)
		return "", no("AUTHENTICATIONFAILED", "Invalid credentials")
	}
	if err != nil {
		c.log.Error("login", "user", user, "err", err)
		return "", no("UNAVAILABLE", "Authentication temporarily unavailable")
	}
	if c.srv.Throttle != nil {
		c.srv.Throttle.Succeeded(ip, user)
	}
	if !c.srv.takeUser(acct.Name) {
		return "", no("LIMIT", "Too many connections for this user")
	}
	c.userSlot = acct.Name
	c.acct, c.state = acct, stateAuth
	c.log = c.log.With("user", acct.Name)
	c.log.Info("login")
	return "[CAPABILITY " + c.capabilities() + "] Logged in", nil
}

// cmdAuthenticate runs SASL PLAIN or LOGIN, with an initial response
// (SASL-IR, RFC 4959) if the client sends one.
func cmdAuthenticate(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	mechName, err := c.p.atom()
	if err != nil {
		return "", err
	}
	var ir []byte
	hasIR := false
	if c.p.maybeSP() {
		s, err := c.p.word("=")
		if err != nil {
			return "", err
		}
		hasIR = true
		if s != "=" {
			if ir, err = base64.StdEncoding.DecodeString(s); err != nil {
				return "", bad("Invalid base64 in initial response")
			}
		}
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	if !c.loginAllowed() {
		return "", no("PRIVACYREQUIRED", "Cleartext authentication is disabled here; use STARTTLS")
	}
	var user, pass string
	var mech sasl.Server
	switch strings.ToUpper(mechName) {
	case "PLAIN":
		mech = sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && !strings.EqualFold(identity, username) {
				return errors.New("proxy authorization is not supported")
			}
			user, pass = username, password
			return nil
		})
	case "LOGIN":
		mech = auth.NewLoginServer(func(username, password string) { user, pass = username, password })
	default:
		return "", no("CANNOT", "Unsupported authentication mechanism")
	}
	resp := ir
	if !hasIR {
		resp = nil
	}
	for {
		challenge, done, err := mech.Next(resp)
		if err != nil {
			return "", no("AUTHENTICATIONFAILED", "Authentication failed")
		}
		if done {
			break
		}
		c.w.cont(base64.StdEncoding.EncodeToString(challenge))
		if err := c.w.flush(); err != nil {
			return "", err
		}
		line, err := c.readSASLLine()
		if err != nil {
			return "", err
		}
		if line == "*" {
			return "", bad("Authentication cancelled")
		}
		if resp, err = base64.StdEncoding.DecodeString(line); err != nil {
			return "", bad("Invalid base64 in response")
		}
	}
	return c.login(user, pass)
}

func (c *conn) readSASLLine() (string, error) {
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", bad("Response too long")
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// cmdUnauthenticate returns to the not-authenticated state (RFC 8437).
func cmdUnauthenticate(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	if c.sel != nil {
		c.sel.close()
		c.sel = nil
	}
	c.acct, c.state = nil, stateNotAuth
	c.rev2, c.utf8Accept, c.w.utf8 = false, false, false
	c.srv.releaseUser(c.userSlot)
	c.userSlot = ""
	return "", nil
}

// cmdEnable turns on IMAP4rev2 and UTF8=ACCEPT (RFC 5161).
func cmdEnable(c *conn, tag string) (string, error) {
	var enabled []string
	if c.p.peek() != ' ' {
		return "", bad("ENABLE needs a capability")
	}
	for c.p.maybeSP() {
		name, err := c.p.atom()
		if err != nil {
			return "", err
		}
		switch strings.ToUpper(name) {
		case "IMAP4REV2":
			if !c.rev2 {
				c.rev2 = true
				enabled = append(enabled, "IMAP4rev2")
			}
		case "UTF8=ACCEPT":
			if !c.utf8Accept {
				c.utf8Accept = true
				enabled = append(enabled, "UTF8=ACCEPT")
			}
		}
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	c.w.utf8 = c.rev2 || c.utf8Accept
	c.w.untagged(strings.TrimSpace("ENABLED " + strings.Join(enabled, " ")))
	return "", nil
}

func cmdNamespace(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	c.w.untagged(`NAMESPACE (("" "/")) NIL NIL`)
	return "", nil
}
