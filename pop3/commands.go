package pop3

import "strings"

// command is one entry of the command table: the states it is valid in
// and its handler. A handler writes its positive reply itself and returns
// an error for a negative one (conn.fail writes it).
type command struct {
	states state
	run    func(c *conn, args string) error
}

const anyState = stateAuthorization | stateTransaction

// commands maps upper-case keywords to their entry. An extension is one
// entry here, one handler, and its CAPA line.
var commands map[string]command

func init() {
	commands = map[string]command{
		// RFC 2449 section 5: CAPA in both states.
		"CAPA": {anyState, cmdCapa},
		"QUIT": {anyState, cmdQuit},

		// AUTHORIZATION (RFC 1939 section 7, RFC 5034 section 4, RFC 2595 section 4).
		"USER": {stateAuthorization, cmdUser},
		"PASS": {stateAuthorization, cmdPass},
		"APOP": {stateAuthorization, cmdApop},
		"AUTH": {stateAuthorization, cmdAuth},
		"STLS": {stateAuthorization, cmdStls},

		// TRANSACTION (RFC 1939 section 5 and 7).
		"STAT": {stateTransaction, cmdStat},
		"LIST": {stateTransaction, cmdList},
		"RETR": {stateTransaction, cmdRetr},
		"TOP":  {stateTransaction, cmdTop},
		"DELE": {stateTransaction, cmdDele},
		"NOOP": {stateTransaction, cmdNoop},
		"RSET": {stateTransaction, cmdRset},
		"UIDL": {stateTransaction, cmdUidl},
	}
}

func cmdCapa(c *conn, args string) error {
	if args != "" {
		return errf("", "CAPA takes no arguments")
	}
	c.writeLine("+OK Capability list follows")
	for _, capa := range c.capabilities() {
		c.writeLine(capa)
	}
	c.writeLine(".")
	return nil
}

// capabilities lists what this session can use now (RFC 2449 section 6).
func (c *conn) capabilities() []string {
	caps := []string{"TOP", "UIDL"}
	// RFC 5034 section 4: no plaintext mechanisms where they may not be used.
	if c.cleartextOK() {
		caps = append(caps, "USER", "SASL PLAIN LOGIN")
	}
	if c.state == stateAuthorization && !c.tls && c.srv.TLS != nil {
		caps = append(caps, "STLS")
	}
	return append(caps,
		"RESP-CODES",
		"AUTH-RESP-CODE", // RFC 3206 section 6
		"PIPELINING",
		// Letterbox never removes mail on its own (RFC 2449 section 6.7).
		"EXPIRE NEVER",
		"IMPLEMENTATION Letterbox",
	)
}

// cmdQuit ends the session; in the TRANSACTION state it first enters the
// UPDATE state (RFC 1939 section 6).
func cmdQuit(c *conn, args string) error {
	c.done = true
	if c.state == stateAuthorization {
		c.writeLine("+OK Letterbox POP3 server signing off")
		return nil
	}
	return c.update()
}

// cleartextOK says whether a password may be sent on this connection.
func (c *conn) cleartextOK() bool {
	if c.tls {
		return true
	}
	return c.srv.CleartextAllowed != nil && c.srv.CleartextAllowed(c.remote)
}

// errCleartext refuses a password on a connection without TLS, with the
// AUTH code RFC 3206 section 5 gives to logins that break site policy.
func (c *conn) errCleartext() error {
	if c.srv.TLS != nil {
		return errf("AUTH", "Plaintext authentication is disallowed on non-secure connections; use STLS")
	}
	return errf("AUTH", "Plaintext authentication is disallowed on non-secure connections")
}

// normalizeLogin folds a login name the way storage does, so that the
// throttle counts "Bob@Example.com" and "bob@example.com" as one account.
func normalizeLogin(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
