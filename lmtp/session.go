package lmtp

import (
	"io"
	"net"
	"sync"

	"github.com/emersion/go-smtp"
)

// session is one LMTP connection. go-smtp calls its methods one at a time
// from the connection's goroutine, except LMTPData, which runs in a
// goroutine of its own while the connection goroutine writes the replies
// (and, with BDAT, may take an RSET), and Logout, which Server.Shutdown
// may call from anywhere: env and inTx are guarded by mu for them.
type session struct {
	s      *Server
	helo   string
	remote net.Addr
	size   int64 // MAIL FROM SIZE=, 0 if none

	mu   sync.Mutex
	env  *Envelope // the transaction, from MAIL to its end
	inTx bool
}

func (ss *session) envelope() *Envelope {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.env
}

var _ smtp.LMTPSession = (*session)(nil)

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.envelope() != nil {
		// RFC 5321 section 4.1.1.2: MAIL starts a transaction, it may not
		// replace one (go-smtp would keep the first one's recipients).
		return reply(503, 5, 5, 1, "Nested MAIL command: RSET first")
	}
	if err := CheckSender(from); err != nil {
		return err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.inTx = ss.s.begin(); !ss.inTx {
		return replyShuttingDown()
	}
	ss.env = &Envelope{ID: NewID(), From: from, Helo: ss.helo, Remote: ss.remote, Protocol: "LMTP"}
	ss.size = opts.Size
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	env := ss.envelope()
	if env == nil {
		return reply(503, 5, 5, 1, "MAIL first")
	}
	rc, rep := ss.s.d.Resolve(ss.s.ctx, to, ss.size)
	if rep != nil {
		ss.s.log.Info("recipient refused", "id", env.ID, "rcpt", to, "reply", rep.Code)
		return rep
	}
	ss.mu.Lock()
	env.Recipients = append(env.Recipients, rc)
	ss.mu.Unlock()
	return nil
}

// LMTPData delivers the message and gives go-smtp one status per accepted
// RCPT, in their order (RFC 2033 section 4.2). go-smtp writes a status as
// soon as it is set and reads the rest of r after we return.
func (ss *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	env := ss.envelope()
	if env == nil {
		return replyTempFail("none")
	}
	results := ss.s.d.Deliver(ss.s.ctx, env, r)
	for i, rc := range env.Recipients {
		status.SetStatus(rc.Address, results[i].Reply)
	}
	// go-smtp gives this to any RCPT left without a status: never a 250
	// that no commit stands behind.
	return replyTempFail(env.ID)
}

// Data is the SMTP form, which go-smtp uses only without LMTPData; it
// answers with the first recipient's reply.
func (ss *session) Data(r io.Reader) error {
	env := ss.envelope()
	if env == nil {
		return replyTempFail("none")
	}
	results := ss.s.d.Deliver(ss.s.ctx, env, r)
	for _, res := range results {
		if res.Reply.Code/100 != 2 {
			return res.Reply
		}
	}
	return nil
}

// Reset ends the transaction: go-smtp calls it on RSET, on LHLO, and after
// the replies to DATA or BDAT LAST are written.
func (ss *session) Reset() {
	ss.mu.Lock()
	ss.env = nil
	ss.mu.Unlock()
	ss.size = 0
	ss.endTx()
}

func (ss *session) Logout() error {
	ss.endTx()
	return nil
}

func (ss *session) endTx() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.inTx {
		ss.inTx = false
		ss.s.end()
	}
}
