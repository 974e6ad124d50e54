package sieve

import (
	"fmt"
	"strings"
)

// How a redirected message leaves, the way Pigeonhole does it, so that a
// setup migrated from Dovecot forwards the same: the envelope sender
// comes from sieve_redirect_envelope_from, and every forwarded copy
// carries an X-Sieve-Redirected-From field naming the user, by which a
// copy that comes back to that user is recognised and not sent again.

// RedirectFrom values: the envelope sender of redirected messages
// (Pigeonhole's sieve_redirect_envelope_from). Besides these, "<addr>"
// is that address and "<>" the null sender.
const (
	RedirectFromSender        = "sender"         // the original envelope sender (the default)
	RedirectFromRecipient     = "recipient"      // the final envelope recipient
	RedirectFromOrigRecipient = "orig_recipient" // the original recipient (ORCPT), else the final one
	RedirectFromUserEmail     = "user_email"     // the user's address
)

// redirectedFromField marks a forwarded copy with the user who sent it on.
const redirectedFromField = "X-Sieve-Redirected-From"

// ParseRedirectFrom checks a sieve_redirect_envelope_from value and
// returns it in the form Forward takes ("" is the default, "sender").
func ParseRedirectFrom(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch lv := strings.ToLower(v); lv {
	case "", RedirectFromSender, RedirectFromRecipient, RedirectFromOrigRecipient, RedirectFromUserEmail:
		return lv, nil
	}
	if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
		addr := strings.TrimSpace(v[1 : len(v)-1])
		if addr == "" || validAddress(addr) {
			return "<" + addr + ">", nil
		}
	}
	return "", fmt.Errorf("%q is none of sender, recipient, orig_recipient, user_email, <address> or <>", v)
}

// validAddress accepts local@domain with neither part empty nor holding
// spaces or angle brackets.
func validAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && at < len(a)-1 && !strings.ContainsAny(a, " \t<>")
}

// Forwarding says how one redirect goes out.
type Forwarding struct {
	From string // envelope sender; "" is the null sender
	// Header is the field to put in front of the message, CRLF included.
	Header string
	// Loop: the message already went through a redirect of this user
	// (named by userEmail or by the recipient address); it is not to be
	// sent again.
	Loop bool
}

// Forward decides how message m, received with env, is redirected.
// redirectFrom is a value of ParseRedirectFrom; userEmail the user's own
// address ("" for the final recipient, env.To). A message that came with
// the null sender keeps it: no one is to answer a bounce, whatever the
// setting says.
func Forward(redirectFrom, userEmail string, env Envelope, m *Message) Forwarding {
	user := bareAddress(userEmail)
	if user == "" {
		user = env.To
	}
	f := Forwarding{From: env.From, Header: redirectedFromField + ": " + user + "\r\n"}
	if env.From != "" {
		switch redirectFrom {
		case "", RedirectFromSender:
		case RedirectFromRecipient:
			f.From = env.To
		case RedirectFromOrigRecipient:
			f.From = env.OrigTo
			if f.From == "" {
				f.From = env.To
			}
		case RedirectFromUserEmail:
			f.From = user
		default: // "<address>" or "<>"
			f.From = strings.TrimSuffix(strings.TrimPrefix(redirectFrom, "<"), ">")
		}
	}
	// The field may name the user by the address of this setup or by the
	// recipient address it came to; either one means a loop.
	for _, v := range m.HeaderValues(redirectedFromField) {
		if v = bareAddress(v); strings.EqualFold(v, user) || strings.EqualFold(v, env.To) {
			f.Loop = true
			break
		}
	}
	return f
}
