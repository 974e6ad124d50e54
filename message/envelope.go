package message

// Envelope holds the ENVELOPE fields (RFC 9051 section 7.5.2) of a message,
// raw as in the header: RFC 2047 words are not decoded (the RFC says so).
// The first instance of a string field counts; address fields that
// appear more than once are joined, as Dovecot does.
type Envelope struct {
	// Date, InReplyTo and MessageID are the raw values with CR and LF
	// removed. Subject keeps its line endings: rendering collapses white
	// space as Dovecot does, and needs to see them for that.
	Date, Subject                      string
	From, Sender, ReplyTo, To, Cc, Bcc []Address // nil: no such header, or no address in it
	InReplyTo, MessageID               string
	// Has tells which of the string fields had a header: a missing one is
	// NIL, an empty one "".
	Has EnvelopeFields
}

// EnvelopeFields is a set of the Envelope string fields.
type EnvelopeFields uint8

const (
	HasDate EnvelopeFields = 1 << iota
	HasSubject
	HasInReplyTo
	HasMessageID
)

func parseEnvelope(hdr []byte) Envelope {
	var e Envelope
	var seen uint16
	once := func(bit uint16) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	eachField(hdr, func(name, value []byte) {
		switch {
		case isField(name, "date"):
			if once(1) {
				e.Date, e.Has = noLF(value), e.Has|HasDate
			}
		case isField(name, "subject"):
			if once(2) {
				e.Subject, e.Has = string(value), e.Has|HasSubject
			}
		case isField(name, "in-reply-to"):
			if once(4) {
				e.InReplyTo, e.Has = noLF(value), e.Has|HasInReplyTo
			}
		case isField(name, "message-id"):
			if once(8) {
				e.MessageID, e.Has = noLF(value), e.Has|HasMessageID
			}
		case isField(name, "from"):
			e.From = append(e.From, parseAddressList(value)...)
		case isField(name, "sender"):
			e.Sender = append(e.Sender, parseAddressList(value)...)
		case isField(name, "reply-to"):
			e.ReplyTo = append(e.ReplyTo, parseAddressList(value)...)
		case isField(name, "to"):
			e.To = append(e.To, parseAddressList(value)...)
		case isField(name, "cc"):
			e.Cc = append(e.Cc, parseAddressList(value)...)
		case isField(name, "bcc"):
			e.Bcc = append(e.Bcc, parseAddressList(value)...)
		}
	})
	return e
}

// AppendEnvelope appends the message's ENVELOPE (RFC 9051 section 7.5.2),
// the parenthesised list without the "ENVELOPE " item name.
func (p *Parsed) AppendEnvelope(dst []byte) []byte {
	return p.Envelope.Append(dst)
}

// Append appends the envelope in IMAP syntax. Sender and Reply-To default
// to From (RFC 9051 section 7.5.2).
func (e *Envelope) Append(dst []byte) []byte {
	dst = append(dst, '(')
	dst = appendNString(dst, e.Date, e.Has&HasDate != 0)
	dst = append(dst, ' ')
	if e.Has&HasSubject != 0 {
		dst = appendHuman(dst, e.Subject)
	} else {
		dst = append(dst, "NIL"...)
	}
	dst = append(dst, ' ')
	dst = appendAddresses(dst, e.From)
	dst = append(dst, ' ')
	dst = appendAddresses(dst, or(e.Sender, e.From))
	dst = append(dst, ' ')
	dst = appendAddresses(dst, or(e.ReplyTo, e.From))
	dst = append(dst, ' ')
	dst = appendAddresses(dst, e.To)
	dst = append(dst, ' ')
	dst = appendAddresses(dst, e.Cc)
	dst = append(dst, ' ')
	dst = appendAddresses(dst, e.Bcc)
	dst = append(dst, ' ')
	dst = appendNString(dst, e.InReplyTo, e.Has&HasInReplyTo != 0)
	dst = append(dst, ' ')
	dst = appendNString(dst, e.MessageID, e.Has&HasMessageID != 0)
	return append(dst, ')')
}

func or(a, b []Address) []Address {
	if len(a) > 0 {
		return a
	}
	return b
}

func appendAddresses(dst []byte, list []Address) []byte {
	if len(list) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for i := range list {
		a := &list[i]
		dst = append(dst, '(')
		if a.Name == "" {
			dst = append(dst, "NIL"...)
		} else {
			dst = appendHuman(dst, a.Name)
		}
		dst = append(dst, ' ')
		dst = appendNString(dst, a.Route, a.Route != "")
		dst = append(dst, ' ')
		dst = appendNString(dst, a.Mailbox, a.Mailbox != "")
		dst = append(dst, ' ')
		dst = appendNString(dst, a.Host, a.Host != "")
		dst = append(dst, ')')
	}
	return append(dst, ')')
}
