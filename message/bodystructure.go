package message

import "strconv"

// Dovecot's answer for a multipart that has no body part at all (RFC 2046
// wants at least one): a single empty text/plain part.
const (
	emptyBody          = `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)`
	emptyBodyStructure = `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)`
)

// AppendBodyStructure appends the message's BODY (extended false) or
// BODYSTRUCTURE (extended true) per RFC 9051 section 7.5.2, without the item
// name. It renders as Dovecot 2.3 does: lower-case type names, text parts
// without a charset parameter get ("charset" "us-ascii") (the RFC 2045
// section 5.2 default), a part with no Content-Type is "text" "plain", a
// missing Content-Transfer-Encoding is "7bit".
func (p *Parsed) AppendBodyStructure(dst []byte, extended bool) []byte {
	return p.Root.AppendBodyStructure(dst, extended)
}

// AppendBodyStructure appends the BODY or BODYSTRUCTURE of this part as if
// it were a whole message.
func (part *Part) AppendBodyStructure(dst []byte, extended bool) []byte {
	dst = append(dst, '(')
	dst = part.appendBody(dst, extended)
	return append(dst, ')')
}

func (part *Part) appendBody(dst []byte, extended bool) []byte {
	if part.Flags&PartMultipart != 0 {
		return part.appendMultipart(dst, extended)
	}
	text := false
	switch {
	case part.Flags&PartMessage != 0:
		sub := part.Subtype
		if part.Type != "message" {
			sub = "rfc822" // the multipart/digest default
		}
		dst = append(dst, `"message" `...)
		dst = appendString(dst, sub)
	case part.Flags&PartHasType == 0:
		text = true
		dst = append(dst, `"text" "plain"`...)
	default:
		text = part.Type == "text"
		dst = appendString(dst, part.Type)
		dst = append(dst, ' ')
		dst = appendString(dst, part.Subtype)
	}
	dst = append(dst, ' ')
	dst = appendParams(dst, part.Params, text)
	dst = append(dst, ' ')
	dst = appendNString(dst, part.ID, part.Flags&PartHasID != 0)
	dst = append(dst, ' ')
	dst = appendNString(dst, part.Description, part.Flags&PartHasDescription != 0)
	dst = append(dst, ' ')
	if part.Encoding == "" {
		dst = append(dst, `"7bit"`...)
	} else {
		dst = appendString(dst, part.Encoding)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, part.BodySize, 10)
	switch {
	case text:
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, part.BodyLines, 10)
	case part.Flags&PartMessage != 0:
		dst = append(dst, ' ')
		env := part.MessageEnvelope
		if env == nil {
			env = &Envelope{}
		}
		dst = env.Append(dst)
		dst = append(dst, ' ')
		if part.Message != nil {
			dst = part.Message.AppendBodyStructure(dst, extended)
		} else {
			dst = append(dst, emptyBody...)
		}
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, part.BodyLines, 10)
	}
	if !extended {
		return dst
	}
	dst = append(dst, ' ')
	dst = appendNString(dst, part.MD5, part.Flags&PartHasMD5 != 0)
	return part.appendExtension(dst)
}

func (part *Part) appendMultipart(dst []byte, extended bool) []byte {
	if len(part.Children) == 0 {
		if extended {
			dst = append(dst, emptyBodyStructure...)
		} else {
			dst = append(dst, emptyBody...)
		}
	}
	for _, c := range part.Children {
		dst = c.AppendBodyStructure(dst, extended)
	}
	dst = append(dst, ' ')
	dst = appendString(dst, part.Subtype)
	if !extended {
		return dst
	}
	dst = append(dst, ' ')
	dst = appendParams(dst, part.Params, false)
	return part.appendExtension(dst)
}

// appendExtension appends the disposition, language and location
// extension data common to all parts.
func (part *Part) appendExtension(dst []byte) []byte {
	dst = append(dst, ' ')
	if part.Flags&PartHasDisposition == 0 {
		dst = append(dst, "NIL"...)
	} else {
		dst = append(dst, '(')
		dst = appendString(dst, part.Disposition)
		dst = append(dst, ' ')
		dst = appendParams(dst, part.DispositionParams, false)
		dst = append(dst, ')')
	}
	dst = append(dst, ' ')
	if len(part.Language) == 0 {
		dst = append(dst, "NIL"...)
	} else {
		dst = append(dst, '(')
		for i, l := range part.Language {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendString(dst, l)
		}
		dst = append(dst, ')')
	}
	dst = append(dst, ' ')
	return appendNString(dst, part.Location, part.Flags&PartHasLocation != 0)
}

// appendParams appends a parameter list, NIL when empty. For a text part a
// missing charset is added as "us-ascii", the RFC 2045 default, as Dovecot
// does.
func appendParams(dst []byte, params [][2]string, text bool) []byte {
	if len(params) == 0 && !text {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	charset := false
	for i, kv := range params {
		if i > 0 {
			dst = append(dst, ' ')
		}
		if kv[0] == "charset" {
			charset = true
		}
		dst = appendString(dst, kv[0])
		dst = append(dst, ' ')
		dst = appendString(dst, kv[1])
	}
	if text && !charset {
		if len(params) > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, `"charset" "us-ascii"`...)
	}
	return append(dst, ')')
}

// Part returns the part a section number names (RFC 9051 section 6.4.5):
// path [] is the whole message, [1] of a non-multipart message its body,
// [n] of a multipart its n-th body part, and the parts of a message/rfc822
// part are those of the message it holds. It returns nil when there is no
// such part.
func (p *Parsed) Part(path []int) *Part {
	part := p.Root
	for i, n := range path {
		switch {
		case n < 1:
			return nil
		case i == 0:
			part = messagePart(p.Root, n)
		case part.Flags&PartMultipart != 0:
			part = childPart(part, n)
		case part.Flags&PartMessage != 0 && part.Message != nil:
			part = messagePart(part.Message, n)
		default:
			return nil
		}
		if part == nil {
			return nil
		}
	}
	return part
}

// messagePart returns part n of a message: a body part of a multipart
// message, or for n == 1 the body of another message (the same Part).
func messagePart(m *Part, n int) *Part {
	if m.Flags&PartMultipart != 0 {
		return childPart(m, n)
	}
	if n == 1 {
		return m
	}
	return nil
}

func childPart(m *Part, n int) *Part {
	if n > len(m.Children) {
		return nil
	}
	return m.Children[n-1]
}
