package lmtp

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-smtp"

	"letterbox/storage"
)

// reply builds a reply with an RFC 3463 enhanced status code.
func reply(code int, class, subject, detail int, format string, args ...any) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, subject, detail}, Message: fmt.Sprintf(format, args...)}
}

// Replies of the recipient checks and of delivery. The texts name the
// address where the MTA logs them beside it.
func replyNoUser(addr string) *smtp.SMTPError {
	return reply(550, 5, 1, 1, "<%s> No such user here", addr)
}

func replyNoDomain(addr string) *smtp.SMTPError {
	return reply(550, 5, 1, 2, "<%s> Domain not hosted here", addr)
}

func replyBadRecipient() *smtp.SMTPError {
	return reply(501, 5, 1, 3, "Bad recipient address syntax")
}

func replyBadSender() *smtp.SMTPError {
	return reply(501, 5, 1, 7, "Bad sender address syntax")
}

// replyFull is RFC 3463's "mailbox full": permanent by default,
// temporary with quota_full_tempfail. After DATA, go-smtp puts the address
// in front of each reply itself: addr is "" there.
func replyFull(addr string, tempfail bool) *smtp.SMTPError {
	text := "Mailbox is full"
	if addr != "" {
		text = "<" + addr + "> " + text
	}
	if tempfail {
		return reply(452, 4, 2, 2, "%s", text)
	}
	return reply(552, 5, 2, 2, "%s", text)
}

func replyTooBig() *smtp.SMTPError {
	return reply(552, 5, 3, 4, "Message is larger than this server accepts")
}

func replyTempFail(id string) *smtp.SMTPError {
	return reply(451, 4, 3, 0, "Temporary failure, try again later (id %s)", id)
}

func replyShuttingDown() *smtp.SMTPError {
	return reply(421, 4, 3, 2, "Server shutting down, try again later")
}

func replyTooManyConns() *smtp.SMTPError {
	return reply(421, 4, 7, 0, "Too many connections from your address")
}

func replySaved(id string) *smtp.SMTPError {
	return reply(250, 2, 0, 0, "Saved (id %s)", id)
}

// replyFor maps an error of receiving or storing a message to the reply
// one recipient gets. Only errors known to be permanent fail permanently;
// everything else asks the MTA to try again, so no mail is lost to a
// passing fault.
func (d *Deliverer) replyFor(err error, id string) *smtp.SMTPError {
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return replySaved(id)
	case errors.As(err, &se):
		return se // go-smtp's own (the SIZE limit), or a decision's
	case errors.Is(err, storage.ErrTooBig):
		return replyTooBig()
	case errors.Is(err, storage.ErrOverQuota):
		return replyFull("", d.opts.QuotaFullTempfail)
	case errors.Is(err, smtp.ErrTooLongLine):
		// RFC 5321 section 4.5.3.1.6 allows lines of 1000 octets; lines
		// up to maxLine are kept, longer ones fail for good.
		return reply(554, 5, 6, 0, "Message has a line longer than %d bytes", maxLine)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, smtp.ErrDataReset):
		return replyTempFail(id) // the client went away: nobody reads this
	}
	return replyTempFail(id)
}

// Exit codes of `letterbox deliver` (sysexits.h). Postfix's local and pipe
// delivery agents turn them into DSN status codes: 67 is 5.1.1, 68 5.1.2,
// 69 5.3.0, 73 5.2.0, 75 4.3.0.
const (
	ExitOK          = 0
	ExitUsage       = 64
	ExitNoUser      = 67
	ExitNoHost      = 68
	ExitUnavailable = 69
	ExitCantCreate  = 73
	ExitTempFail    = 75
)

// ExitCode is the exit code of `letterbox deliver` for a reply: 0 for
// 2xx, 75 (EX_TEMPFAIL) for 4xx, and for 5xx the code that tells the MTA
// why.
func ExitCode(r *smtp.SMTPError) int {
	switch {
	case r == nil || r.Code/100 == 2:
		return ExitOK
	case r.Code/100 != 5:
		return ExitTempFail
	}
	switch e := r.EnhancedCode; {
	case e == smtp.EnhancedCode{5, 1, 1}, e == smtp.EnhancedCode{5, 1, 3}:
		return ExitNoUser
	case e == smtp.EnhancedCode{5, 1, 2}:
		return ExitNoHost
	case e == smtp.EnhancedCode{5, 2, 2}:
		return ExitCantCreate
	}
	return ExitUnavailable
}

// replyRejected refuses a recipient for Sieve's reject or ereject (RFC
// 5429 section 2.1): 550 5.7.1 with the script's reason on one line.
func replyRejected(reason string) *smtp.SMTPError {
	reason = strings.Join(strings.Fields(reason), " ")
	if reason == "" {
		reason = "Message rejected"
	}
	if len(reason) > 400 {
		reason = reason[:400]
	}
	return reply(550, 5, 7, 1, "%s", reason)
}
