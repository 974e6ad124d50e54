package storage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"letterbox/message"
	"net/textproto"
	"strings"
	"time"

	"net/mail"
)

// SearchCriteria is one SEARCH program (RFC 9051 section 6.4.4); all given
// keys must match. Dates compare by calendar day: internal date in its own
// zone, Date: header in its own zone (RFC 9051: "disregarding time and
// timezone"). String keys match case-insensitive substrings.
type SearchCriteria struct {
	UIDs     UIDSet // nil: any
	Flags    []string
	NotFlags []string

	Since, Before, On             time.Time // internal date
	SentSince, SentBefore, SentOn time.Time // Date: header
	SavedSince, SavedBefore       time.Time // save date (RFC 8514)

	Larger, Smaller int64 // 0: no limit

	Header []HeaderMatch // an empty Value matches any message with the field
	Body   []string
	Text   []string

	ModSeq uint64 // MODSEQ at least this (RFC 7162)

	Not []SearchCriteria
	Or  [][2]SearchCriteria
}

// HeaderMatch matches a header field containing a value.
type HeaderMatch struct{ Field, Value string }

// Search returns the UIDs of the messages of one of a's mailboxes that match.
// The narrow rows answer most keys; headers come from the stored header
// block; only BODY and TEXT read message content.
func (s *Store) Search(ctx context.Context, a *Account, mailboxID int64, c *SearchCriteria) ([]UID, error) {
	want := Want(0)
	if c.needs(func(c *SearchCriteria) bool {
		return len(c.Header) > 0 || !c.SentSince.IsZero() || !c.SentBefore.IsZero() || !c.SentOn.IsZero()
	}) {
		want |= WantHeader
	}
	msgs, err := s.Messages(ctx, a, mailboxID, c.UIDs, want)
	if err != nil {
		return nil, err
	}
	var out []UID
	for i := range msgs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m := &msgs[i]
		e := evaluation{s: s, ctx: ctx, a: a, mailboxID: mailboxID, m: m}
		ok, err := e.match(c)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, m.UID)
		}
	}
	return out, nil
}

func (c *SearchCriteria) needs(f func(*SearchCriteria) bool) bool {
	if f(c) {
		return true
	}
	for i := range c.Not {
		if c.Not[i].needs(f) {
			return true
		}
	}
	for i := range c.Or {
		if c.Or[i][0].needs(f) || c.Or[i][1].needs(f) {
			return true
		}
	}
	return false
}

// evaluation matches one message, reading its header and text at most once.
type evaluation struct {
	s         *Store
	ctx       context.Context
	a         *Account
	mailboxID int64
	m         *Message
	hdr       textproto.MIMEHeader
	text      *messageText
}

func (e *evaluation) match(c *SearchCriteria) (bool, error) {
	m := e.m
	if c.UIDs != nil && !c.UIDs.Contains(m.UID) {
		return false, nil
	}
	for _, f := range c.Flags {
		if !hasFlag(m.Flags, f) {
			return false, nil
		}
	}
	for _, f := range c.NotFlags {
		if hasFlag(m.Flags, f) {
			return false, nil
		}
	}
	if !dayInRange(m.InternalDate, c.Since, c.Before, c.On) || !dayInRange(m.SaveDate, c.SavedSince, c.SavedBefore, time.Time{}) {
		return false, nil
	}
	if c.Larger > 0 && m.Size <= c.Larger || c.Smaller > 0 && m.Size >= c.Smaller {
		return false, nil
	}
	if c.ModSeq > 0 && m.ModSeq < c.ModSeq {
		return false, nil
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() || !c.SentOn.IsZero() {
		t, err := mail.ParseDate(e.header().Get("Date"))
		if err != nil || !dayInRange(t, c.SentSince, c.SentBefore, c.SentOn) {
			return false, nil
		}
	}
	for _, h := range c.Header {
		if !headerContains(e.header(), h) {
			return false, nil
		}
	}
	for _, want := range c.Body {
		t, err := e.content()
		if err != nil {
			return false, err
		}
		if !containsFold(t.body, want) {
			return false, nil
		}
	}
	for _, want := range c.Text {
		t, err := e.content()
		if err != nil {
			return false, err
		}
		if !containsFold(t.header, want) && !containsFold(t.body, want) {
			return false, nil
		}
	}
	for i := range c.Not {
		ok, err := e.match(&c.Not[i])
		if err != nil || ok {
			return false, err
		}
	}
	for _, pair := range c.Or {
		ok, err := e.match(&pair[0])
		if err != nil {
			return false, err
		}
		if !ok {
			if ok, err = e.match(&pair[1]); err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

func hasFlag(f Flags, name string) bool {
	switch strings.ToLower(name) {
	case `\seen`:
		return f.Seen
	case `\answered`:
		return f.Answered
	case `\flagged`:
		return f.Flagged
	case `\deleted`:
		return f.Deleted
	case `\draft`:
		return f.Draft
	}
	return f.HasKeyword(name)
}

// dayInRange compares t's calendar day, in t's own zone, with the bounds'
// calendar days: on or after since, before before, on on.
func dayInRange(t, since, before, on time.Time) bool {
	day := civil(t)
	if !since.IsZero() && day < civil(since) {
		return false
	}
	if !before.IsZero() && day >= civil(before) {
		return false
	}
	if !on.IsZero() && day != civil(on) {
		return false
	}
	return true
}

func civil(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

func (e *evaluation) header() textproto.MIMEHeader {
	if e.hdr == nil {
		r := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(e.m.Header), strings.NewReader("\r\n\r\n"))))
		h, _ := r.ReadMIMEHeader()
		if h == nil {
			h = textproto.MIMEHeader{}
		}
		e.hdr = h
	}
	return e.hdr
}

func headerContains(h textproto.MIMEHeader, m HeaderMatch) bool {
	values := h.Values(m.Field)
	if len(values) == 0 {
		return false
	}
	if m.Value == "" {
		return true
	}
	address := isAddressField(m.Field)
	for _, v := range values {
		if containsFold(decodeHeader(v), m.Value) {
			return true
		}
		// Addresses also match in their parsed form, so that comments and
		// odd spacing do not hide them (as Dovecot searches).
		if address && containsFold(addressText(v), m.Value) {
			return true
		}
	}
	return false
}

func isAddressField(f string) bool {
	switch strings.ToLower(f) {
	case "from", "to", "cc", "bcc", "sender", "reply-to":
		return true
	}
	return false
}

// addressText renders an address list as "Name <local@domain>, ...".
func addressText(v string) string {
	var b strings.Builder
	for _, a := range message.ParseAddressList(v) {
		switch {
		case a.IsGroupEnd():
			continue
		case a.IsGroupStart():
			b.WriteString(decodeHeader(a.Mailbox))
		default:
			if a.Name != "" {
				b.WriteString(decodeHeader(a.Name))
				b.WriteByte(' ')
			}
			b.WriteString("<" + a.Mailbox + "@" + a.Host + ">")
		}
		b.WriteString(", ")
	}
	return b.String()
}

func containsFold(haystack, needle string) bool {
	return strings.Contains(strings.ToLower(haystack), strings.ToLower(needle))
}

// messageText is a message's searchable text: decoded header and the
// decoded text of its text parts.
type messageText struct{ header, body string }

// maxSearchText bounds how much decoded body text one message contributes.
const maxSearchText = 4 << 20

func (e *evaluation) content() (*messageText, error) {
	if e.text != nil {
		return e.text, nil
	}
	c, err := e.s.Open(e.ctx, e.a, e.mailboxID, e.m.UID)
	if err != nil {
		if errors.Is(err, ErrNotFound) { // expunged meanwhile
			e.text = &messageText{}
			return e.text, nil
		}
		return nil, err
	}
	defer c.Close()
	e.text = extractText(c.Reader())
	return e.text, nil
}
