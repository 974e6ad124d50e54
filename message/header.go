package message

import (
	"bytes"
	"strings"
)

// eachField calls fn for every field of a header block, in order. name is
// as written, white space before the colon removed. value starts after the
// colon and the white space that follows it; folded lines keep their line
// endings, and the field's last line ending is dropped. A line that has no
// colon is a field with that name and an empty value (Dovecot does the
// same), so it matches no field we look for.
func eachField(hdr []byte, fn func(name, value []byte)) {
	for len(hdr) > 0 {
		// The field runs until a line that does not start with WSP.
		end := 0
		for {
			nl := bytes.IndexByte(hdr[end:], '\n')
			if nl < 0 {
				end = len(hdr)
				break
			}
			end += nl + 1
			if end >= len(hdr) || (hdr[end] != ' ' && hdr[end] != '\t') {
				break
			}
		}
		field := hdr[:end]
		hdr = hdr[end:]
		field = trimEOL(field)
		colon := bytes.IndexByte(field, ':')
		if colon < 0 {
			fn(field, nil)
			continue
		}
		name := bytes.TrimRight(field[:colon], " \t")
		value := field[colon+1:]
		for len(value) > 0 && (value[0] == ' ' || value[0] == '\t') {
			value = value[1:]
		}
		fn(name, value)
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// noLF returns s without CR and LF characters: how Dovecot unfolds the
// values it renders raw (RFC 5322 section 2.2.3 unfolding keeps the WSP).
func noLF(s []byte) string {
	if bytes.IndexByte(s, '\r') < 0 && bytes.IndexByte(s, '\n') < 0 {
		return string(s)
	}
	out := make([]byte, 0, len(s))
	for _, c := range s {
		if c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return string(out)
}

// isField reports whether name equals want, ignoring ASCII case.
func isField(name []byte, want string) bool {
	if len(name) != len(want) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// setMIME fills the MIME fields of part from its header block and decides
// how its body is parsed. It returns the multipart boundary, if any.
// As in Dovecot, the first usable instance of each field counts.
func (part *Part) setMIME(hdr []byte, inDigest bool) (bnd string) {
	eachField(hdr, func(name, value []byte) {
		if len(name) < 9 || !isField(name[:8], "content-") {
			return
		}
		switch {
		case isField(name, "content-type"):
			if part.Flags&PartHasType != 0 {
				return
			}
			typ, sub, params, ok := parseContentType(value)
			if !ok {
				return
			}
			part.Flags |= PartHasType
			part.Type, part.Subtype, part.Params = typ, sub, params
		case isField(name, "content-transfer-encoding"):
			if part.Encoding == "" {
				part.Encoding = parseEncoding(value)
			}
		case isField(name, "content-id"):
			if part.Flags&PartHasID == 0 {
				part.Flags |= PartHasID
				part.ID = noLF(value)
			}
		case isField(name, "content-description"):
			if part.Flags&PartHasDescription == 0 {
				part.Flags |= PartHasDescription
				part.Description = noLF(value)
			}
		case isField(name, "content-location"):
			if part.Flags&PartHasLocation == 0 {
				part.Flags |= PartHasLocation
				part.Location = noLF(value)
			}
		case isField(name, "content-md5"):
			if part.Flags&PartHasMD5 == 0 {
				part.Flags |= PartHasMD5
				part.MD5 = noLF(value)
			}
		case isField(name, "content-disposition"):
			if part.Flags&PartHasDisposition == 0 {
				if d, params, ok := parseDisposition(value); ok {
					part.Flags |= PartHasDisposition
					part.Disposition, part.DispositionParams = d, params
				}
			}
		case isField(name, "content-language"):
			if part.Language == nil {
				part.Language = parseLanguage(value)
			}
		}
	})
	switch {
	case part.Type == "multipart":
		for _, kv := range part.Params {
			if kv[0] == "boundary" {
				bnd = kv[1]
				if len(bnd) > maxBoundaryLen {
					bnd = bnd[:maxBoundaryLen]
				}
				part.Flags |= PartMultipart
				break
			}
		}
	case part.Type == "message" && (part.Subtype == "rfc822" || part.Subtype == "global"):
		part.Flags |= PartMessage
	case part.Flags&PartHasType == 0 && inDigest:
		// RFC 2046 section 5.1.5: the default in a digest.
		part.Flags |= PartMessage
	}
	return bnd
}

// parseContentType parses "type/subtype *(; param)" (RFC 2045 section 5.1),
// leniently: comments and white space anywhere, parameters after a broken
// one still read. ok is false when there is no type/subtype pair.
func parseContentType(v []byte) (typ, sub string, params [][2]string, ok bool) {
	l := lexer{b: v}
	l.skipCFWS()
	typ = l.token()
	if typ == "" || !l.eat('/') {
		return "", "", nil, false
	}
	l.skipCFWS()
	sub = l.token()
	if sub == "" {
		return "", "", nil, false
	}
	l.skipCFWS()
	if !l.end() && l.peek() != ';' {
		// Junk after the subtype ("text/plain/stupid"): Dovecot keeps
		// the field but with an empty type and subtype and no parameters.
		return "", "", nil, true
	}
	return strings.ToLower(typ), strings.ToLower(sub), l.params(), true
}

// parseEncoding returns the Content-Transfer-Encoding token, or "" when the
// field is not one token (Dovecot then renders the default "7bit").
func parseEncoding(v []byte) string {
	l := lexer{b: v}
	l.skipCFWS()
	t := l.token()
	l.skipCFWS()
	if !l.end() {
		return ""
	}
	return t
}

// parseDisposition parses "type *(; param)" (RFC 2183).
func parseDisposition(v []byte) (string, [][2]string, bool) {
	l := lexer{b: v}
	l.skipCFWS()
	d := l.token()
	if d == "" {
		return "", nil, false
	}
	return d, l.params(), true
}

// parseLanguage parses a comma-separated list of language tags (RFC 3282).
func parseLanguage(v []byte) []string {
	l := lexer{b: v}
	var tags []string
	for {
		l.skipCFWS()
		t := l.atom()
		if t == "" {
			break
		}
		tags = append(tags, t)
		l.skipCFWS()
		if !l.eat(',') {
			break
		}
	}
	return tags
}

// lexer reads RFC 5322 / RFC 2045 lexical tokens from a header value.
type lexer struct {
	b []byte
	i int
	// lastComment is the text of the last comment skipped: an address with
	// no display name takes it as its name, as Dovecot does.
	lastComment []byte
}

func (l *lexer) end() bool { return l.i >= len(l.b) }

func (l *lexer) peek() byte {
	if l.i < len(l.b) {
		return l.b[l.i]
	}
	return 0
}

func (l *lexer) eat(c byte) bool {
	if l.i < len(l.b) && l.b[l.i] == c {
		l.i++
		return true
	}
	return false
}

// skipCFWS skips white space, line endings and (nested) comments, and
// returns the text of the last comment skipped, if any.
func (l *lexer) skipCFWS() (comment []byte) {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\r', '\n':
			l.i++
		case '(':
			comment = l.comment()
			l.lastComment = comment
		default:
			return comment
		}
	}
	return comment
}

// comment skips a comment, returning its text with quoted-pairs undone and
// line endings removed.
func (l *lexer) comment() []byte {
	depth := 0
	var text []byte
	for l.i < len(l.b) {
		c := l.b[l.i]
		l.i++
		switch c {
		case '(':
			if depth > 0 {
				text = append(text, c)
			}
			depth++
		case ')':
			depth--
			if depth == 0 {
				return text
			}
			text = append(text, c)
		case '\\':
			if l.i < len(l.b) {
				text = append(text, l.b[l.i])
				l.i++
			}
		case '\r', '\n':
		default:
			text = append(text, c)
		}
	}
	return text
}

// isTSpecial: RFC 2045 section 5.1 tspecials.
func isTSpecial(c byte) bool {
	return strings.IndexByte("()<>@,;:\\\"/[]?=", c) >= 0
}

// token reads an RFC 2045 token; 8-bit bytes are accepted as Dovecot does.
func (l *lexer) token() string {
	start := l.i
	for l.i < len(l.b) {
		c := l.b[l.i]
		if c <= ' ' || c == 0x7f || isTSpecial(c) {
			break
		}
		l.i++
	}
	return string(l.b[start:l.i])
}

// isAText: RFC 5322 atext, plus 8-bit bytes (RFC 6532, and leniency).
func isAText(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func (l *lexer) atom() string {
	start := l.i
	for l.i < len(l.b) && isAText(l.b[l.i]) {
		l.i++
	}
	return string(l.b[start:l.i])
}

// quoted reads a quoted-string starting at '"', returning its content with
// quoted-pairs undone and line endings removed (unfolded).
func (l *lexer) quoted() string {
	l.i++ // '"'
	var out []byte
	for l.i < len(l.b) {
		c := l.b[l.i]
		l.i++
		switch c {
		case '"':
			return string(out)
		case '\\':
			if l.i < len(l.b) {
				out = append(out, l.b[l.i])
				l.i++
			}
		case '\r', '\n':
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// params reads "*(; attribute = value)" (RFC 2045 section 5.1) with RFC 2231
// continuations joined. A broken parameter is skipped up to the next ';'.
// Names are lower-cased; values keep their case.
func (l *lexer) params() [][2]string {
	var out [][2]string
	var cont []contParam
	for {
		l.skipCFWS()
		if l.end() {
			break
		}
		if !l.eat(';') {
			l.skipTo(';')
			continue
		}
		l.skipCFWS()
		name := strings.ToLower(l.token())
		l.skipCFWS()
		if name == "" || !l.eat('=') {
			l.skipTo(';')
			continue
		}
		l.skipCFWS()
		var value string
		switch c := l.peek(); {
		case c == '"':
			value = l.quoted()
		case c == '=':
			// Broken encoders write name==?utf-8?b?…?= unquoted.
			start := l.i
			for l.i < len(l.b) && strings.IndexByte("; \t\r\n", l.b[l.i]) < 0 {
				l.i++
			}
			value = string(l.b[start:l.i])
		default:
			value = l.token()
		}
		if star := strings.IndexByte(name, '*'); star >= 0 {
			cont = append(cont, contParam{name: name, value: value})
			continue
		}
		out = append(out, [2]string{name, value})
	}
	if len(cont) > 0 {
		out = append(out, joinContinuations(cont)...)
	}
	return out
}

func (l *lexer) skipTo(c byte) {
	for l.i < len(l.b) && l.b[l.i] != c {
		if l.b[l.i] == '"' {
			l.quoted()
			continue
		}
		l.i++
	}
}

type contParam struct{ name, value string }

// joinContinuations joins RFC 2231 section 3 continuations
// (name*0, name*1*, …) into one parameter per name, in order of first
// appearance. A parameter with any extended (charset'lang'%xx) segment is
// returned as "name*" with its value still encoded, as Dovecot does.
func joinContinuations(cont []contParam) [][2]string {
	type joined struct {
		name     string
		extended bool
		segs     map[int]string
		max      int
	}
	var order []*joined
	byName := map[string]*joined{}
	for _, c := range cont {
		star := strings.IndexByte(c.name, '*')
		base, rest := c.name[:star], c.name[star+1:]
		ext := strings.HasSuffix(rest, "*") || rest == ""
		rest = strings.TrimSuffix(rest, "*")
		idx := 0
		if rest != "" {
			n := 0
			for _, d := range []byte(rest) {
				if d < '0' || d > '9' || n > 1000 {
					n = -1
					break
				}
				n = n*10 + int(d-'0')
			}
			if n < 0 {
				continue
			}
			idx = n
		}
		j := byName[base]
		if j == nil {
			j = &joined{name: base, segs: map[int]string{}}
			byName[base] = j
			order = append(order, j)
		}
		if _, dup := j.segs[idx]; dup {
			continue
		}
		j.segs[idx] = c.value
		j.max = max(j.max, idx)
		if ext {
			j.extended = true
		}
	}
	out := make([][2]string, 0, len(order))
	for _, j := range order {
		var sb strings.Builder
		for i := 0; i <= j.max; i++ {
			s, ok := j.segs[i]
			if !ok {
				break
			}
			sb.WriteString(s)
		}
		name := j.name
		if j.extended {
			name += "*"
		}
		out = append(out, [2]string{name, sb.String()})
	}
	return out
}
