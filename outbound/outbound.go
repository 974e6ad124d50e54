// Package outbound hands the mail Letterbox itself sends (Sieve redirects
// and vacation replies) to an SMTP relay, normally the MTA that delivers
// to Letterbox. Letterbox does not relay mail on its own: without a relay
// configured, Send returns ErrNoRelay and the caller logs what was not
// sent.
//
// Send runs one SMTP transaction with github.com/emersion/go-smtp's
// client: EHLO, STARTTLS when the relay offers it (or implicit TLS, or
// neither), MAIL FROM (<> for the null sender vacation replies use), one
// RCPT TO per recipient, DATA. A transaction either reaches every
// recipient or none: a refused recipient ends it before DATA.
//
// Errors say whether sending again later may help: IsPermanent reports a
// 5xx reply or an address the relay can never take; everything else (a
// 4xx reply, a refused connection, a timeout) is worth a retry.
package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// TLS modes of a Relay.
const (
	// TLSStartTLS upgrades the connection with STARTTLS (RFC 3207) when the
	// relay offers it, and sends in cleartext when it does not. This is
	// opportunistic encryption (RFC 7435), as Postfix's
	// smtp_tls_security_level = may: without a Relay.TLSConfig the
	// certificate is not verified, since an attacker able to fake it could
	// as well strip the STARTTLS offer, and relays on loopback or a LAN
	// commonly present self-signed certificates.
	TLSStartTLS = "starttls"
	// TLSNone never uses TLS.
	TLSNone = "none"
	// TLSImplicit speaks TLS from the first byte (submissions, port 465).
	// Without a Relay.TLSConfig the certificate is verified against the
	// system's roots and the host part of Relay.Addr.
	TLSImplicit = "tls"
)

// Defaults of a Relay's zero fields.
const (
	DefaultDialTimeout = 15 * time.Second
	DefaultTimeout     = 2 * time.Minute
)

var (
	// ErrNoRelay is returned by Send when no relay is configured (a nil
	// *Relay or an empty Addr): the mail was not sent, and sending it again
	// will not help until a relay is configured.
	ErrNoRelay = errors.New("outbound: no SMTP relay configured")
	// ErrInvalidAddress is returned for a sender or recipient that cannot
	// be put in an SMTP command as it is. IsPermanent reports it.
	ErrInvalidAddress = errors.New("outbound: invalid address")
)

// Relay is an SMTP relay that accepts Letterbox's outgoing mail. The zero
// value of every field but Addr takes a default; a Relay is safe for
// concurrent use (each Send opens its own connection).
type Relay struct {
	Addr string // host:port; "" means no relay (ErrNoRelay)
	// Helo is the name given in EHLO; "" takes the system's host name.
	Helo string
	// TLS is TLSStartTLS (also ""), TLSNone or TLSImplicit.
	TLS string
	// TLSConfig, when set, is used as given for STARTTLS and implicit TLS
	// (its ServerName defaults to the host of Addr): set it to verify the
	// certificate of a STARTTLS relay, or to trust a private CA.
	TLSConfig *tls.Config
	// DialTimeout bounds connecting; default DefaultDialTimeout.
	DialTimeout time.Duration
	// Timeout bounds the whole transaction, connecting included; default
	// DefaultTimeout. The context given to Send may end it sooner.
	Timeout time.Duration
}

// Error is a reply of the relay that refused the transaction.
type Error struct {
	Relay     string // the relay's address
	Command   string // the command refused: "EHLO", "STARTTLS", "MAIL", "RCPT", "DATA"
	Recipient string // for RCPT, the recipient refused
	Code      int    // the SMTP reply code, such as 550 or 451
	// Enhanced is the enhanced status code (RFC 3463), such as {5, 1, 1};
	// zeros when the relay gave none.
	Enhanced [3]int
	Message  string // the reply's text
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "outbound: relay %s refused %s", e.Relay, e.Command)
	if e.Recipient != "" {
		fmt.Fprintf(&b, " TO:<%s>", e.Recipient)
	}
	fmt.Fprintf(&b, ": %d", e.Code)
	if e.Enhanced != [3]int{} {
		fmt.Fprintf(&b, " %d.%d.%d", e.Enhanced[0], e.Enhanced[1], e.Enhanced[2])
	}
	if e.Message != "" {
		b.WriteString(" " + strings.ReplaceAll(e.Message, "\n", " / "))
	}
	return b.String()
}

// Permanent reports a 5xx reply: the relay will refuse this mail again.
func (e *Error) Permanent() bool { return e.Code >= 500 && e.Code < 600 }

// Temporary reports a 4xx reply: the relay asks to try again later.
func (e *Error) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// IsPermanent reports whether err says that sending the same mail again
// will fail again: a 5xx reply of the relay, or ErrInvalidAddress. It is
// false for nil, for ErrNoRelay (a matter of configuration: test it
// first), and for every other error (4xx replies, connection failures,
// timeouts), after which the caller may retry.
func IsPermanent(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Permanent()
	}
	return errors.Is(err, ErrInvalidAddress)
}

// Send sends msg (a whole message, header and body; LF line ends are sent
// as CRLF) from the envelope sender from ("" is the null sender, sent as
// MAIL FROM:<>) to every address in to. It returns once the relay has
// accepted the message for every recipient, or with the first refusal.
func (r *Relay) Send(ctx context.Context, from string, to []string, msg io.Reader) error {
	if r == nil || r.Addr == "" {
		return ErrNoRelay
	}
	if err := checkAddresses(from, to); err != nil {
		return err
	}
	mode := r.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	if mode != TLSStartTLS && mode != TLSNone && mode != TLSImplicit {
		return fmt.Errorf("outbound: relay TLS mode %q is not one of starttls, none, tls", r.TLS)
	}
	host, _, err := net.SplitHostPort(r.Addr)
	if err != nil {
		return fmt.Errorf("outbound: relay address %q: %w", r.Addr, err)
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	t := &transaction{r: r, ctx: ctx, host: host, mode: mode, helo: r.Helo}
	if t.helo == "" {
		t.helo = localName()
	}
	err = t.run(from, to, msg)
	var e *Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	// When the deadline or the caller's cancellation cut the transaction,
	// say so rather than "i/o timeout". The connection's deadline is the
	// context's, and may fire a moment before the context's own timer.
	cause := ctx.Err()
	var ne net.Error
	if dl, ok := ctx.Deadline(); cause == nil && ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl) {
		cause = context.DeadlineExceeded
	}
	if cause != nil {
		return fmt.Errorf("outbound: relay %s: %w (%s)", r.Addr, cause, strings.TrimPrefix(err.Error(), "outbound: "))
	}
	return err
}

// transaction is one Send.
type transaction struct {
	r    *Relay
	ctx  context.Context
	host string
	mode string
	helo string
}

func (t *transaction) run(from string, to []string, msg io.Reader) error {
	c, err := t.connect()
	if err != nil {
		return err
	}
	defer c.Close()

	var opts *smtp.MailOptions
	if !isASCII(from) || !allASCII(to) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return fmt.Errorf("%w: an address is not ASCII and relay %s does not offer SMTPUTF8", ErrInvalidAddress, t.r.Addr)
		}
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(from, opts); err != nil {
		return t.failed(c, "MAIL", "", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return t.failed(c, "RCPT", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return t.failed(c, "DATA", "", err)
	}
	src := &readErr{r: msg}
	if _, err := io.Copy(w, src); err != nil {
		// Closing the connection without the final dot abandons the
		// transaction: nothing is sent.
		if src.err != nil {
			return fmt.Errorf("outbound: read message: %w", src.err)
		}
		return fmt.Errorf("outbound: relay %s: send message: %w", t.r.Addr, err)
	}
	if err := w.Close(); err != nil {
		return t.failed(c, "DATA", "", err)
	}
	// The message is accepted; a failing QUIT changes nothing.
	c.Quit()
	return nil
}

// connect opens a connection, says EHLO and sets up TLS as the mode asks.
func (t *transaction) connect() (*smtp.Client, error) {
	switch t.mode {
	case TLSNone:
		return t.plain()
	case TLSImplicit:
		conn, err := t.dial()
		if err != nil {
			return nil, err
		}
		tc := tls.Client(conn, t.tlsConfig(true))
		if err := tc.HandshakeContext(t.ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("outbound: relay %s: TLS: %w", t.r.Addr, err)
		}
		return t.hello(smtp.NewClient(tc))
	}
	// STARTTLS when offered. go-smtp cannot upgrade a client it has
	// greeted (its STARTTLS is only reachable through NewClientStartTLS,
	// which fails when the relay does not offer it), so the offer is read
	// on a first connection, which carries the mail when there is none;
	// otherwise a second connection does STARTTLS. That costs a connection
	// to a relay that offers TLS, usually on the same host or LAN.
	c, err := t.plain()
	if err != nil {
		return nil, err
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return c, nil
	}
	c.Quit()
	c.Close()
	conn, err := t.dial()
	if err != nil {
		return nil, err
	}
	c, err = smtp.NewClientStartTLS(conn, t.tlsConfig(false))
	if err != nil {
		// NewClientStartTLS closed the connection.
		return nil, t.wrap("STARTTLS", "", err)
	}
	// After STARTTLS the relay forgets the first EHLO (RFC 3207 section
	// 4.2): introduce ourselves again, with our name.
	return t.hello(c)
}

func (t *transaction) plain() (*smtp.Client, error) {
	conn, err := t.dial()
	if err != nil {
		return nil, err
	}
	return t.hello(smtp.NewClient(conn))
}

// hello reads the greeting and says EHLO (HELO to a relay that does not
// know EHLO).
func (t *transaction) hello(c *smtp.Client) (*smtp.Client, error) {
	if err := c.Hello(t.helo); err != nil {
		c.Close()
		return nil, t.wrap("EHLO", "", err)
	}
	return c, nil
}

// dial connects within the dial timeout and returns a connection that
// keeps every I/O within the transaction's deadline and ends it when the
// context is done.
func (t *transaction) dial() (net.Conn, error) {
	dt := t.r.DialTimeout
	if dt <= 0 {
		dt = DefaultDialTimeout
	}
	d := net.Dialer{Timeout: dt}
	conn, err := d.DialContext(t.ctx, "tcp", t.r.Addr)
	if err != nil {
		return nil, fmt.Errorf("outbound: connect to relay %s: %w", t.r.Addr, err)
	}
	deadline, _ := t.ctx.Deadline()
	dc := &deadlineConn{Conn: conn, deadline: deadline}
	dc.Conn.SetDeadline(deadline)
	dc.stop = context.AfterFunc(t.ctx, dc.abort)
	return dc, nil
}

func (t *transaction) tlsConfig(verify bool) *tls.Config {
	var cfg *tls.Config
	if t.r.TLSConfig != nil {
		cfg = t.r.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		// See TLSStartTLS for why opportunistic STARTTLS does not verify.
		cfg.InsecureSkipVerify = !verify
	}
	if cfg.ServerName == "" {
		cfg.ServerName = t.host
	}
	return cfg
}

// failed ends a transaction the relay refused: QUIT when the connection is
// still in step (the refusal was a reply), and the error.
func (t *transaction) failed(c *smtp.Client, cmd, rcpt string, err error) error {
	err = t.wrap(cmd, rcpt, err)
	var e *Error
	if errors.As(err, &e) {
		c.Quit()
	}
	return err
}

// wrap turns go-smtp's errors into ours: *Error for a reply.
func (t *transaction) wrap(cmd, rcpt string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e := &Error{Relay: t.r.Addr, Command: cmd, Recipient: rcpt, Code: se.Code, Message: se.Message}
		if se.EnhancedCode != smtp.NoEnhancedCode {
			e.Enhanced = se.EnhancedCode
		}
		return e
	}
	if rcpt != "" {
		return fmt.Errorf("outbound: relay %s: %s TO:<%s>: %w", t.r.Addr, cmd, rcpt, err)
	}
	return fmt.Errorf("outbound: relay %s: %s: %w", t.r.Addr, cmd, err)
}

// deadlineConn keeps the deadlines go-smtp sets for each command (it sets
// one per command, and clears it after) within the transaction's deadline,
// and fails every I/O once the transaction's context is done.
type deadlineConn struct {
	net.Conn
	deadline time.Time // zero: none
	aborted  atomic.Bool
	stop     func() bool
}

func (c *deadlineConn) clamp(t time.Time) time.Time {
	if c.aborted.Load() {
		return time.Unix(1, 0)
	}
	if !c.deadline.IsZero() && (t.IsZero() || t.After(c.deadline)) {
		return c.deadline
	}
	return t
}

func (c *deadlineConn) SetDeadline(t time.Time) error { return c.set(c.Conn.SetDeadline, t) }
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	return c.set(c.Conn.SetReadDeadline, t)
}
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	return c.set(c.Conn.SetWriteDeadline, t)
}

func (c *deadlineConn) set(setter func(time.Time) error, t time.Time) error {
	err := setter(c.clamp(t))
	// An abort between clamp and setter would be undone: check again.
	// (abort marks before it sets, so one of the two sees the other.)
	if c.aborted.Load() {
		setter(time.Unix(1, 0))
	}
	return err
}

// abort makes every pending and later I/O fail at once.
func (c *deadlineConn) abort() {
	c.aborted.Store(true)
	c.Conn.SetDeadline(time.Unix(1, 0))
}

func (c *deadlineConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// readErr remembers the error of the message's reader, to tell it from
// the relay's.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// checkAddresses refuses what cannot go in MAIL FROM:<...> or RCPT
// TO:<...> as it is: control characters (CR and LF would inject commands),
// spaces, angle brackets, and an empty recipient. Whether an address is
// deliverable is the relay's to say.
func checkAddresses(from string, to []string) error {
	if len(to) == 0 {
		return fmt.Errorf("%w: no recipients", ErrInvalidAddress)
	}
	if err := checkAddress("sender", from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if rcpt == "" {
			return fmt.Errorf("%w: empty recipient", ErrInvalidAddress)
		}
		if err := checkAddress("recipient", rcpt); err != nil {
			return err
		}
	}
	return nil
}

func checkAddress(what, addr string) error {
	if len(addr) > 512 {
		return fmt.Errorf("%w: %s is longer than 512 bytes", ErrInvalidAddress, what)
	}
	for _, c := range addr {
		if c <= ' ' || c == 0x7f || c == '<' || c == '>' {
			return fmt.Errorf("%w: %s %q", ErrInvalidAddress, what, addr)
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}

// localName is the name for EHLO when none is configured: the system's
// host name, or "localhost" when it has none that fits in a command.
func localName() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, " \t\r\n") {
		return "localhost"
	}
	return h
}
