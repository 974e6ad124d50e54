package managesieve

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"letterbox/auth"
	"letterbox/internal/netserve"
)

// cmdStartTLS starts TLS (RFC 5804 section 2.2) and then sends the
// capabilities again, as the RFC requires: they change under TLS.
func cmdStartTLS(c *conn, args []arg) error {
	switch {
	case len(args) != 0:
		return no("", "STARTTLS takes no arguments")
	case c.tls:
		return no("", "TLS is already active")
	case c.srv.TLS == nil:
		return no("", "STARTTLS is not available")
	case c.br.Buffered() > 0:
		// Bytes sent before the handshake would be taken as if they had
		// come under TLS (CVE-2011-0411): the client must wait.
		return no("", "Commands sent after STARTTLS must wait for the TLS handshake")
	}
	c.ok("", "Begin TLS negotiation now")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	tc := tls.Server(c.raw, c.srv.TLS)
	c.raw.SetDeadline(time.Now().Add(preAuthTimeout))
	if err := tc.Handshake(); err != nil {
		c.log.Info("STARTTLS handshake failed", "err", err)
		return errAbort
	}
	c.raw.SetDeadline(time.Time{})
	c.nc, c.tls = tc, true
	c.br.Reset(tc)
	c.bw.Reset(c.socketWriter())
	c.writeCapabilities()
	return c.ok("", "TLS negotiation successful")
}

// cmdAuthenticate runs a SASL exchange (RFC 5804 section 2.1): challenges
// and responses are base64 in strings, one per line; "*" cancels.
func cmdAuthenticate(c *conn, args []arg) error {
	if len(args) < 1 || len(args) > 2 {
		return no("", "AUTHENTICATE takes a mechanism and an optional initial response")
	}
	var user, pass string
	var mech sasl.Server
	name := strings.ToUpper(args[0].s)
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
		return no("", "Unsupported authentication mechanism")
	}
	if !c.cleartextOK() {
		if c.srv.TLS != nil {
			return no("ENCRYPT-NEEDED", "Passwords are accepted only under TLS; use STARTTLS")
		}
		// No way to encryption here: the site forbids the mechanism.
		return no("AUTH-TOO-WEAK", "Cleartext passwords are not accepted from your address")
	}
	var resp []byte // nil: no initial response
	if len(args) == 2 {
		var err error
		if resp, err = base64.StdEncoding.DecodeString(args[1].s); err != nil {
			return no("", "Invalid base64 in the initial response")
		}
		if resp == nil {
			resp = []byte{} // "" is an empty initial response
		}
	}
	for {
		challenge, done, err := mech.Next(resp)
		if err != nil {
			return c.loginFailed(netserve.HostOf(c.remote), user, name)
		}
		if done {
			break
		}
		c.bw.WriteString(encodeString(base64.StdEncoding.EncodeToString(challenge)) + "\r\n")
		if err := c.bw.Flush(); err != nil {
			return err
		}
		if resp, err = c.readSASLResponse(); err != nil {
			return err
		}
	}
	return c.login(user, pass, name)
}

// readSASLResponse reads one client response of a SASL exchange.
func (c *conn) readSASLResponse() ([]byte, error) {
	c.raw.SetReadDeadline(time.Now().Add(preAuthTimeout))
	c.p.maxSkip = 0
	args, err := c.p.readArgs(c.srv.maxLine())
	var se *syntaxError
	switch {
	case errors.As(err, &se):
		return nil, no("", "%s", se.msg)
	case errors.Is(err, errTooLong):
		c.writeResponse("BYE", "", "SASL response too long")
		return nil, errAbort
	case err != nil:
		return nil, err
	case len(args) != 1:
		return nil, no("", "A SASL response is one string")
	case args[0].s == "*":
		// RFC 5804 section 2.1: the client cancels with "*"; quoted or
		// not, it is not base64.
		return nil, no("", "Authentication cancelled")
	}
	resp, err := base64.StdEncoding.DecodeString(args[0].s)
	if err != nil {
		return nil, no("", "Invalid base64 in the SASL response")
	}
	return resp, nil
}

// login checks a user name and password, through the throttle shared with
// IMAP and POP3.
func (c *conn) login(user, pass, method string) error {
	ip, user := netserve.HostOf(c.remote), strings.ToLower(strings.TrimSpace(user))
	if t := c.srv.Throttle; t != nil {
		wait, refused := t.Check(ip, user)
		if refused {
			c.log.Info("login refused: too many failures", "user", user)
			return no("TRYLATER", "Too many failed logins; try again later")
		}
		if wait > 0 {
			if err := c.bw.Flush(); err != nil {
				return err
			}
			time.Sleep(wait) // at most Throttle.Max
		}
	}
	acct, err := c.srv.Auth.Authenticate(c.ctx, user, pass)
	if errors.Is(err, auth.ErrBadCredentials) {
		return c.loginFailed(ip, user, method)
	}
	if err != nil {
		c.log.Error("login", "user", user, "err", err)
		return no("TRYLATER", "Authentication is temporarily unavailable")
	}
	if c.srv.Throttle != nil {
		c.srv.Throttle.Succeeded(ip, acct.Name)
	}
	c.acct = acct
	c.log = c.log.With("user", acct.Name)
	c.log.Info("login", "method", method, "tls", c.tls)
	return c.ok("", "Logged in")
}

func (c *conn) loginFailed(ip, user, method string) error {
	if c.srv.Throttle != nil {
		c.srv.Throttle.Failed(ip, user)
	}
	c.log.Info("login failed", "user", user, "method", method)
	return no("", "Authentication failed")
}

// cmdUnauthenticate returns to the state before AUTHENTICATE (RFC 5804
// section 2.14); TLS stays.
func cmdUnauthenticate(c *conn, args []arg) error {
	if len(args) != 0 {
		return no("", "UNAUTHENTICATE takes no arguments")
	}
	c.log.Info("unauthenticate")
	c.acct = nil
	c.log = c.srv.logger().With("proto", "managesieve", "remote", c.remote.String())
	return c.ok("", "Unauthenticated")
}
