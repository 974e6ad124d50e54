package sieve

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// str is a string argument as compiled: a constant, or (with the
// variables extension) text and variable references to expand at run
// time (RFC 5229 section 3).
type str struct {
	lit   string
	parts []strPart // nil: lit is the whole value
}

type strPart struct {
	text  string
	isRef bool
	name  string // variable name, lower case, with its namespace ("global.x")
	num   int    // match variable index; -1 for a named variable
}

func constStr(s string) str { return str{lit: s} }

// str compiles the i-th string of argument a.
func (c *compiler) str(a *argument, i int) (str, error) {
	s := a.strs[i]
	p := a.pos
	if i < len(a.strPos) {
		p = a.strPos[i]
	}
	if c.has("encoded-character") {
		var err error
		if s, err = decodeEncodedCharacters(s, p); err != nil {
			return str{}, err
		}
	}
	if !c.has("variables") {
		return str{lit: s}, nil
	}
	return c.parseVariables(s, p)
}

// strList compiles every string of argument a.
func (c *compiler) strList(a *argument) ([]str, error) {
	out := make([]str, len(a.strs))
	for i := range a.strs {
		s, err := c.str(a, i)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// constString compiles the i-th string of a and insists it is a
// constant (no variable references): comparator names, extension names.
func (c *compiler) constString(a *argument, i int, what string) (string, error) {
	s, err := c.str(a, i)
	if err != nil {
		return "", err
	}
	if s.parts != nil {
		return "", errorAt(a.pos, "%s must be a constant string, not one with variables", what)
	}
	return s.lit, nil
}

// parseVariables splits s into text and variable references. Something
// that looks like a reference but is not a valid one stays text.
func (c *compiler) parseVariables(s string, p Pos) (str, error) {
	var parts []strPart
	var text strings.Builder
	refs := false
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 >= len(s) || s[i+1] != '{' {
			text.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			text.WriteString(s[i:])
			break
		}
		ref := s[i+2 : i+2+end]
		part, ok, err := c.variableRef(ref, p)
		if err != nil {
			return str{}, err
		}
		if !ok {
			text.WriteByte('$')
			i++
			continue
		}
		if text.Len() > 0 {
			parts = append(parts, strPart{text: text.String()})
			text.Reset()
		}
		parts = append(parts, part)
		refs = true
		i += 2 + end + 1
	}
	if !refs {
		return str{lit: text.String()}, nil
	}
	if text.Len() > 0 {
		parts = append(parts, strPart{text: text.String()})
	}
	return str{parts: parts}, nil
}

// variableRef parses what is between "${" and "}". ok is false when it is
// not a reference at all.
func (c *compiler) variableRef(ref string, p Pos) (strPart, bool, error) {
	if ref == "" {
		return strPart{}, false, nil
	}
	if isDigit(ref[0]) {
		n := 0
		for i := 0; i < len(ref); i++ {
			if !isDigit(ref[i]) {
				return strPart{}, false, nil
			}
			if n < 1000 {
				n = n*10 + int(ref[i]-'0')
			}
		}
		return strPart{isRef: true, num: n}, true, nil
	}
	elems := strings.Split(ref, ".")
	for _, e := range elems {
		if !isIdentifier(e) {
			return strPart{}, false, nil
		}
	}
	name := strings.ToLower(ref)
	if len(elems) > 1 {
		if err := c.checkNamespace(elems, p); err != nil {
			return strPart{}, false, err
		}
	}
	return strPart{isRef: true, name: name, num: -1}, true, nil
}

// checkNamespace refuses a variable namespace no required extension
// provides (RFC 5229 section 3).
func (c *compiler) checkNamespace(elems []string, p Pos) error {
	ns := strings.ToLower(elems[0])
	for _, n := range namespaces {
		if n.name == ns && c.has(n.ext) {
			return n.check(elems[1:], p)
		}
	}
	return errorAt(p, "unknown variable namespace '%s'", elems[0])
}

// namespace is a variables namespace an extension provides.
type namespace struct {
	name  string
	ext   string
	check func(rest []string, p Pos) error
	get   func(r *runtime, name string) (string, bool)
}

var namespaces []namespace

func isIdentifier(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlpha(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// decodeEncodedCharacters replaces "${hex:...}" and "${unicode:...}"
// (RFC 5228 section 2.4.2.4). Malformed sequences stay as they are.
func decodeEncodedCharacters(s string, p Pos) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		inner := s[i+2 : i+end]
		colon := strings.IndexByte(inner, ':')
		decoded, ok, err := "", false, error(nil)
		if colon > 0 {
			kind := strings.ToLower(inner[:colon])
			switch kind {
			case "hex":
				decoded, ok = decodeHexPairs(inner[colon+1:])
			case "unicode":
				decoded, ok, err = decodeUnicodeSeq(inner[colon+1:], p)
			}
		}
		if err != nil {
			return "", err
		}
		if !ok {
			b.WriteString("${")
			i += 2
			continue
		}
		b.WriteString(decoded)
		i += end + 1
	}
	return b.String(), nil
}

func hexFields(s string) ([]string, bool) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	for _, x := range f {
		for i := 0; i < len(x); i++ {
			if !isHex(x[i]) {
				return nil, false
			}
		}
	}
	return f, true
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func decodeHexPairs(s string) (string, bool) {
	f, ok := hexFields(s)
	if !ok || len(f) == 0 {
		// "${hex:}" encodes nothing: it stays as written, as Pigeonhole
		// leaves it.
		return "", false
	}
	var b []byte
	for _, x := range f {
		if len(x)%2 != 0 {
			return "", false
		}
		for i := 0; i < len(x); i += 2 {
			v, _ := strconv.ParseUint(x[i:i+2], 16, 8)
			b = append(b, byte(v))
		}
	}
	return string(b), true
}

func decodeUnicodeSeq(s string, p Pos) (string, bool, error) {
	f, ok := hexFields(s)
	if !ok || len(f) == 0 {
		return "", false, nil
	}
	var b strings.Builder
	for _, x := range f {
		x = strings.TrimLeft(x, "0")
		if len(x) > 6 {
			return "", false, errorAt(p, "invalid unicode character 0x%s in encoded character string", x)
		}
		v, _ := strconv.ParseUint("0"+x, 16, 32)
		if v > utf8.MaxRune || v >= 0xD800 && v <= 0xDFFF {
			return "", false, errorAt(p, "invalid unicode character 0x%X in encoded character string", v)
		}
		b.WriteRune(rune(v))
	}
	return b.String(), true, nil
}
