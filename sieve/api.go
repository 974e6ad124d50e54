// Package sieve is the Sieve mail filtering language (RFC 5228) and its
// extensions: a lexer and parser, a validator that turns the syntax tree
// into a compiled script, and an interpreter that runs a compiled script
// against one message and returns the actions it decided on.
//
// The package decides; it does not deliver. Storing copies, sending
// redirects and vacation replies, and remembering what was already
// answered are the caller's (lmtp, letterbox deliver), through the
// Result and the interfaces in Input.
package sieve

import (
	"time"
)

// Options tune compiling and running. The zero value (or nil) takes the
// defaults.
type Options struct {
	Limits Limits
	// RecipientDelimiter holds the characters that separate user and
	// detail in a local part (subaddress, RFC 5233); any one of them
	// does, as with Dovecot's recipient_delimiter. Default "+".
	RecipientDelimiter string
	// DuplicatePeriod is how long the duplicate extension remembers an
	// id without :seconds (default 14 days); DuplicateMaxPeriod caps
	// :seconds (default 7 days), as Pigeonhole's sieve_duplicate_*.
	DuplicatePeriod    time.Duration
	DuplicateMaxPeriod time.Duration
	// Includes finds the scripts named by the include extension; nil makes
	// every include fail (at run time, or at compile time for a script
	// that names itself).
	Includes Loader
	// Spamtest names the headers spamtest, spamtestplus and virustest read
	// (RFC 5235), as Dovecot's sieve_spamtest_* settings do.
	Spamtest SpamtestOptions
	// Disabled lists extensions that are not offered (not advertised,
	// refused by require).
	Disabled []string
	// EditHeader tunes the editheader extension (RFC 5293).
	EditHeader EditHeaderOptions
	// Vacation tunes the vacation extension (RFC 5230, RFC 6131).
	Vacation VacationOptions
	// UserEmail is the user's own address when it is neither the envelope
	// recipient nor the original recipient (Pigeonhole's sieve_user_email).
	UserEmail string
	// RedirectFrom is the envelope sender of redirected messages, a value
	// of ParseRedirectFrom (Pigeonhole's sieve_redirect_envelope_from);
	// the delivery applies it through Forward.
	RedirectFrom string
	// Uploading marks a compile for ManageSieve PUTSCRIPT/CHECKSCRIPT: an
	// included script that does not exist yet, or an include loop, is not
	// an error until the script runs (as Pigeonhole does on upload).
	Uploading bool
}

// VacationOptions are Pigeonhole's sieve_vacation_* settings.
type VacationOptions struct {
	// MinPeriod, DefaultPeriod and MaxPeriod bound :days and :seconds.
	// Defaults: 1 day, 7 days, no maximum. A negative MinPeriod means no
	// minimum (sieve_vacation_min_period = 0); MaxPeriod 0 means none.
	MinPeriod     time.Duration
	DefaultPeriod time.Duration
	MaxPeriod     time.Duration
	// DefaultSubject is the subject when the script gives none and the
	// message has none; default "Automated reply".
	DefaultSubject string
	// DefaultSubjectTemplate makes the subject from the original one
	// ("%{subject}" stands for it); default "Auto: %{subject}".
	DefaultSubjectTemplate string
	// UseOriginalRecipient also accepts the original recipient (ORCPT) as
	// one of the user's addresses.
	UseOriginalRecipient bool
	// DontCheckRecipient answers even when none of the user's addresses
	// is in To, Cc, Bcc, Resent-To or Resent-Cc.
	DontCheckRecipient bool
	// SendFromRecipient sends the reply with the recipient as envelope
	// sender instead of the null sender (RFC 5230 section 5.1 allows it).
	SendFromRecipient bool
	// ToHeaderIgnoreEnvelope takes the reply's To from the Sender,
	// Resent-From or From field even when it is not the envelope sender.
	ToHeaderIgnoreEnvelope bool
}

// EditHeaderOptions are Pigeonhole's sieve_editheader_forbid_add and
// sieve_editheader_forbid_delete (sieve_editheader_protected is both).
// Received and Auto-Submitted can never be deleted; Subject can always be
// added and deleted (RFC 5293 section 6). Names compare case-insensitively.
type EditHeaderOptions struct {
	ForbidAdd    []string
	ForbidDelete []string
}

// Limits bound what one script may cost. Zero fields take the defaults.
type Limits struct {
	MaxScriptSize   int           // bytes of source; default 1 MiB
	MaxActions      int           // actions in one result; default 32
	MaxRedirects    int           // redirect actions in one result; default 4
	MaxNesting      int           // block/test nesting depth; default 32
	MaxSteps        int           // interpreter steps per run; default 1,000,000
	MaxCPU          time.Duration // wall time per run; default 2s
	MaxRegexSize    int           // bytes of one regular expression; default 8 KiB
	MaxVariables    int           // variables per scope; default 255
	MaxVariableLen  int           // bytes of one variable value; default 4 KiB
	MaxIncludes     int           // scripts included by one run; default 255
	MaxIncludeDepth int           // nesting of includes; default 10
	MaxHeaderSize   int           // editheader: bytes of an added field; default 2 KiB
	// MaxBodySize bounds what body tests and extracttext read of one MIME
	// part (or of the raw body): bytes after transfer decoding; the rest
	// is not seen. Default 1 MiB.
	MaxBodySize int
}

// SpamtestOptions says where the spam and virus scores are.
// A header setting is a field name, optionally followed by ':' and a
// POSIX extended regular expression whose first group holds the value
// ("X-Spam-Status: score=(-?[0-9.]+)"). SpamTextValues[i] and
// VirusTextValues[i] are the texts that stand for value i
// (sieve_spamtest_text_valueI). Without a status header the tests
// always see "0" (not tested).
type SpamtestOptions struct {
	SpamHeader      string // e.g. "X-Spam-Score"
	SpamMaxHeader   string // header holding the maximum score, or ""
	SpamMaxValue    float64
	SpamType        string // "score", "strlen" or "text"
	SpamTextValues  []string
	VirusHeader     string
	VirusMaxHeader  string
	VirusMaxValue   float64
	VirusType       string
	VirusTextValues []string
}

// Loader finds an included script by location ("personal" or "global")
// and name and compiles it (Loader implementations call Compile, on the
// calling goroutine: the include extension follows the nested compiles
// to find loops). A script that does not exist is an error wrapping
// fs.ErrNotExist; any other error refuses the including script.
type Loader interface {
	LoadScript(location, name string) (*Script, error)
}

// Envelope is the SMTP/LMTP envelope of the message being filtered.
type Envelope struct {
	From   string // reverse path without <>; "" is the null sender
	To     string // the recipient as the MTA gave it (user+detail@domain)
	OrigTo string // original recipient (ORCPT), if known
	Auth   string // authenticated submitter, if known
}

// Mailboxes answers the mailbox extension's questions about the
// recipient's mailboxes (RFC 5490, RFC 8579).
type Mailboxes interface {
	MailboxExists(name string) bool
	// SpecialUseExists reports whether the mailbox named (any mailbox
	// when name is "") carries every one of the special-use flags.
	SpecialUseExists(name string, uses []string) bool
}

// Tracker remembers, per account, what was already done: the duplicate
// extension's message ids (RFC 7352) and the vacation extension's
// replies per sender (RFC 5230 :days). Seen must not record anything;
// the caller records after the delivery succeeded (Result.Track).
type Tracker interface {
	Seen(kind, key string) bool
}

// Input is everything a run reads besides the script.
type Input struct {
	Message   *Message
	Envelope  Envelope
	Mailboxes Mailboxes         // nil: only INBOX exists
	Tracker   Tracker           // nil: nothing was seen before
	Env       map[string]string // environment extension items (RFC 5183) beyond the defaults
	Now       time.Time         // zero: time.Now()
}
