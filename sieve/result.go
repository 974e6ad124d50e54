package sieve

import "time"

// Result is what a run decided: the explicit actions in the order they
// were taken, and whether the implicit keep still stands (RFC 5228
// section 2.10.2).
type Result struct {
	Actions []Action
	// ImplicitKeep is true when no action cancelled the implicit keep; the
	// message then goes to INBOX with ImplicitKeepFlags (imap4flags'
	// internal variable at the end of the run, RFC 5232 section 3).
	ImplicitKeep      bool
	ImplicitKeepFlags []string
	// ImplicitKeepMessage is the message as edited (editheader) when the
	// run ended; nil when it was not edited.
	ImplicitKeepMessage *Message
	// Track lists what the caller records with its Tracker once the
	// delivery succeeded: duplicate ids and vacation replies sent.
	Track []TrackEntry
	// Err is set when the run failed at run time; Actions then holds no
	// action and ImplicitKeep is true: a broken script never loses mail
	// (RFC 5228 section 2.10.6).
	Err error
}

// TrackEntry is one thing to remember for Period.
type TrackEntry struct {
	Kind   string // "duplicate" or "vacation"
	Key    string
	Period time.Duration
}

// Action is one explicit action. The concrete types are *Keep,
// *FileInto, *Redirect, *Discard, *Reject and *Vacation.
type Action interface {
	// String describes the action as Pigeonhole's sieve-test prints it.
	String() string
}

// Keep stores the message in INBOX.
type Keep struct {
	Flags   []string // imap4flags; nil: none set
	Message *Message // edited message, nil when unedited
}

// FileInto stores the message in Mailbox (RFC 5228 section 4.1).
type FileInto struct {
	Mailbox    string   // UTF-8 name, hierarchy separator "/"
	Flags      []string // imap4flags
	Create     bool     // :create (RFC 5490): make it when missing
	SpecialUse string   // :specialuse (RFC 8579): prefer the mailbox with this flag
	Copy       bool     // :copy (RFC 3894): did not cancel the implicit keep
	Message    *Message
}

// Redirect forwards the message to Address (RFC 5228 section 4.2).
type Redirect struct {
	Address string
	Copy    bool
	Message *Message
}

// Discard silently drops the message (cancels the implicit keep).
type Discard struct{}

// Reject refuses the message (RFC 5429): the caller answers the LMTP
// recipient with 550 5.7.1 Reason. Extended is true for ereject.
type Reject struct {
	Reason   string
	Extended bool
}

// Vacation is an auto-reply to send (RFC 5230); the reply is already
// composed and the rules of RFC 3834 already applied.
type Vacation struct {
	From   string // envelope sender of the reply ("" null sender, per RFC 5230 section 5.1)
	To     string // the original sender
	Reply  []byte // the whole reply message, CRLF line endings
	Handle string
	Period time.Duration
}
