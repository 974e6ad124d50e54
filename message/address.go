package message

import "strings"

// Address is one entry of an ENVELOPE address list (RFC 9051 section
// 7.5.2), as Dovecot builds it. An empty field renders as NIL.
//
// Group syntax (RFC 5322 section 3.4) gives a start entry with the group
// name in Mailbox and an empty Host, and an end entry with all fields empty.
// An address with no local part or no domain gets the placeholders
// MissingMailbox and MissingDomain, as Dovecot renders them.
type Address struct {
	Name    string // display name, raw: RFC 2047 words are not decoded
	Route   string // obsolete source route ("@a,@b"), if any
	Mailbox string // local part, without quotes
	Host    string // domain
}

// Placeholders for the parts of a broken address (Dovecot's names).
const (
	MissingMailbox = "MISSING_MAILBOX"
	MissingDomain  = "MISSING_DOMAIN"
)

// IsGroupStart and IsGroupEnd tell the group markers from mailboxes.
func (a *Address) IsGroupStart() bool { return a.Host == "" && a.Mailbox != "" }
func (a *Address) IsGroupEnd() bool   { return *a == Address{} }

// parseAddressList parses an address-list header value (RFC 5322 section
// 3.4) leniently, never failing: what is not an address is skipped or
// becomes a best-effort address with placeholders.
func parseAddressList(v []byte) []Address {
	l := lexer{b: v}
	var out []Address
	for {
		l.skipCFWS()
		if l.end() {
			return out
		}
		if l.eat(',') {
			continue
		}
		start := l.i
		if name, ok := l.groupStart(); ok {
			out = append(out, Address{Mailbox: orMissing(name, MissingMailbox)})
			for {
				l.skipCFWS()
				if l.end() || l.eat(';') {
					break
				}
				if l.eat(',') {
					continue
				}
				out = l.mailbox(out, true)
			}
			out = append(out, Address{})
			continue
		}
		l.i = start
		out = l.mailbox(out, false)
	}
}

func orMissing(s, placeholder string) string {
	if s == "" {
		return placeholder
	}
	return s
}

// groupStart reads "display-name :" and returns the name.
func (l *lexer) groupStart() (string, bool) {
	name, n := l.phrase()
	l.skipCFWS()
	if n == 0 || !l.eat(':') {
		return "", false
	}
	return name, true
}

// phrase reads words (atoms, quoted strings and, as RFC 5322 obs-phrase
// allows, dots) and joins them with single spaces. n counts the words.
func (l *lexer) phrase() (s string, n int) {
	var sb strings.Builder
	for {
		l.skipCFWS()
		var w string
		switch c := l.peek(); {
		case c == '"':
			w = l.quoted()
		case c == '.':
			l.i++
			w = "."
		case isAText(c):
			w = l.atom()
		default:
			return sb.String(), n
		}
		if n > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(w)
		n++
	}
}

// mailbox reads one mailbox (name-addr or addr-spec) and appends it. It
// always consumes input, up to the next ',' (or ';' in a group).
func (l *lexer) mailbox(out []Address, inGroup bool) []Address {
	start := l.i
	name, _ := l.phrase()
	l.skipCFWS()
	var a Address
	if l.eat('<') {
		a.Name = name
		l.skipCFWS()
		if l.peek() == '@' {
			a.Route = l.route()
		}
		a.Mailbox, a.Host, _, _ = l.addrSpec()
		l.skipCFWS()
		l.eat('>')
	} else {
		l.i = start
		var quotedOnly, hasAt bool
		l.lastComment = nil
		a.Mailbox, a.Host, quotedOnly, hasAt = l.addrSpec()
		l.skipCFWS()
		comment := l.lastComment
		if !hasAt {
			// "user" alone is a mailbox; "a b" and "quoted" are a name.
			rest, n := l.phrase()
			if n > 0 || quotedOnly {
				a.Name = strings.TrimSpace(a.Mailbox + " " + rest)
				a.Mailbox = ""
			}
		}
		if comment != nil && a.Name == "" {
			a.Name = noLF(comment)
		}
	}
	if a.Mailbox == "" && a.Host == "" && a.Name == "" && a.Route == "" {
		// Nothing usable: skip one byte of garbage and whatever follows
		// up to the next separator.
		l.skipGarbage(inGroup)
		return out
	}
	a.Mailbox = orMissing(a.Mailbox, MissingMailbox)
	a.Host = orMissing(a.Host, MissingDomain)
	out = append(out, a)
	l.skipGarbage(inGroup)
	return out
}

// skipGarbage skips to the next ',' (or ';' in a group), keeping quoted
// strings and comments whole.
func (l *lexer) skipGarbage(inGroup bool) {
	for !l.end() {
		switch c := l.peek(); {
		case c == ',' || (inGroup && c == ';'):
			return
		case c == '"':
			l.quoted()
		case c == '(':
			l.comment()
		default:
			l.i++
		}
	}
}

// route reads an obsolete source route "@a,@b:" (RFC 5322 section 4.4).
func (l *lexer) route() string {
	var sb strings.Builder
	for l.eat('@') {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('@')
		sb.WriteString(l.domain())
		l.skipCFWS()
		for l.eat(',') {
			l.skipCFWS()
		}
	}
	l.eat(':')
	return sb.String()
}

// addrSpec reads local-part ["@" domain], leniently: dots anywhere, quoted
// words, 8-bit bytes. quotedOnly is set when the local part was a single
// quoted string.
func (l *lexer) addrSpec() (local, domain string, quotedOnly, hasAt bool) {
	var sb strings.Builder
	words, quotes, dots := 0, 0, 0
	lastDot := true
	for {
		l.skipCFWS()
		c := l.peek()
		switch {
		case c == '.':
			l.i++
			sb.WriteByte('.')
			lastDot = true
			dots++
			continue
		case (c == '"' || isAText(c)) && lastDot:
			if c == '"' {
				sb.WriteString(l.quoted())
				quotes++
			} else {
				sb.WriteString(l.atom())
			}
			words++
			lastDot = false
			continue
		}
		break
	}
	local = sb.String()
	quotedOnly = words == 1 && quotes == 1 && dots == 0
	l.skipCFWS()
	if l.eat('@') {
		hasAt = true
		domain = l.domain()
	}
	return local, domain, quotedOnly, hasAt
}

// domain reads a dot-atom or a domain literal ("[…]", kept with brackets).
func (l *lexer) domain() string {
	l.skipCFWS()
	if l.peek() == '[' {
		start := l.i
		for l.i < len(l.b) && l.b[l.i] != ']' {
			l.i++
		}
		l.eat(']')
		return noLF(l.b[start:l.i])
	}
	var sb strings.Builder
	lastDot := true
	for {
		l.skipCFWS()
		c := l.peek()
		if c == '.' {
			l.i++
			sb.WriteByte('.')
			lastDot = true
			continue
		}
		if isAText(c) && lastDot {
			sb.WriteString(l.atom())
			lastDot = false
			continue
		}
		return sb.String()
	}
}
