package sieve

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The variables extension (RFC 5229): the set command with its
// modifiers and the string test. Parsing "${...}" references and the
// match variables live in strings.go, interp.go and match.go.

func init() {
	registerExtension(&extDef{name: "variables"})
	register(&cmdDef{name: "set", ext: "variables", tags: setTags,
		pos: []argType{aString, aString}, minPos: -1, build: buildSet})
	register(&cmdDef{name: "string", ext: "variables", isTest: true, tags: matchTags,
		pos: []argType{aStringList, aStringList}, minPos: -1, build: buildStringTest})
}

// setTags are set's modifiers. Modifiers of one precedence exclude each
// other (RFC 5229 section 4.1), which the tag groups enforce.
var setTags = []tagDef{
	{name: "lower", group: "mod40"},
	{name: "upper", group: "mod40"},
	{name: "lowerfirst", group: "mod30"},
	{name: "upperfirst", group: "mod30"},
	{name: "quotewildcard", group: "mod20"},
	// :quoteregex comes with regex (draft-ietf-sieve-regex section 5).
	{name: "quoteregex", ext: "regex", group: "mod20"},
	// :encodeurl comes with enotify (RFC 5435 section 7).
	{name: "encodeurl", ext: "enotify", group: "mod15"},
	{name: "length", group: "mod10"},
}

// modifierOrder lists the modifiers from the highest precedence, the
// order in which they apply.
var modifierOrder = []string{"lower", "upper", "lowerfirst", "upperfirst",
	"quotewildcard", "quoteregex", "encodeurl", "length"}

type setCmd struct {
	pos   Pos
	name  string
	value str
	mods  []string
}

func buildSet(c *compiler, a *args) (any, error) {
	name, err := c.constString(a.pos[0], 0, "variable name")
	if err != nil {
		return nil, err
	}
	if err := c.checkVariableName(name, a.pos[0].pos); err != nil {
		return nil, err
	}
	value, err := c.str(a.pos[1], 0)
	if err != nil {
		return nil, err
	}
	s := &setCmd{pos: a.n.pos, name: strings.ToLower(name), value: value}
	for _, m := range modifierOrder {
		if a.has(m) {
			s.mods = append(s.mods, m)
		}
	}
	return s, nil
}

// checkVariableName refuses what set cannot assign: match variables,
// names that are not identifiers, unknown namespaces; and counts the
// variables of the script against the limit, as they are declared at
// compile time.
func (c *compiler) checkVariableName(name string, p Pos) error {
	elems := strings.Split(name, ".")
	for _, e := range elems {
		if !isIdentifier(e) {
			return errorAt(p, "invalid variable name '%s'", name)
		}
	}
	if len(elems) > 1 {
		return c.checkNamespace(elems, p)
	}
	declared, _ := c.ext["variables"].(map[string]bool)
	if declared == nil {
		declared = map[string]bool{}
		c.ext["variables"] = declared
	}
	lname := strings.ToLower(name)
	if !declared[lname] && len(declared) >= c.limits.MaxVariables {
		return errorAt(p, "too many variables declared (limit %d)", c.limits.MaxVariables)
	}
	declared[lname] = true
	return nil
}

func (s *setCmd) exec(r *runtime) error {
	v := r.expand(s.value)
	max := r.script.limits.MaxVariableLen
	for _, m := range s.mods {
		v = applyModifier(m, v, max)
	}
	return r.setVariable(s.name, v)
}

// applyModifier applies one set modifier. Case changes touch ASCII
// letters only, as Pigeonhole does; :length counts characters (RFC 5229
// section 4.1.1: "the length of the expanded string in characters").
func applyModifier(m, v string, max int) string {
	switch m {
	case "lower":
		return asciiLower(v)
	case "upper":
		return asciiUpper(v)
	case "lowerfirst":
		if v != "" {
			return asciiLower(v[:1]) + v[1:]
		}
	case "upperfirst":
		if v != "" {
			return asciiUpper(v[:1]) + v[1:]
		}
	case "quotewildcard":
		return quoteChars(v, `*?\`, max)
	case "quoteregex":
		return quoteChars(v, `*?\.+^$|()[]{}`, max)
	case "encodeurl":
		return encodeURL(v)
	case "length":
		return strconv.Itoa(utf8.RuneCountInString(v))
	}
	return v
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// quoteChars puts a backslash before every character of special. The
// result stays within max bytes without splitting a quoted pair, so the
// truncation the variable limit applies later never leaves a dangling
// backslash.
func quoteChars(v, special string, max int) string {
	var b strings.Builder
	for _, c := range []byte(v) {
		n := 1
		if strings.IndexByte(special, c) >= 0 {
			n = 2
		}
		if b.Len()+n > max {
			break
		}
		if n == 2 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// encodeURL percent-encodes everything but RFC 3986 unreserved
// characters (RFC 5435 section 7).
func encodeURL(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range []byte(v) {
		if isAlpha(c) && c != '_' || isDigit(c) || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

type stringTest struct {
	source []str
	m      *matcher
}

func buildStringTest(c *compiler, a *args) (any, error) {
	src, err := c.strList(a.pos[0])
	if err != nil {
		return nil, err
	}
	m, err := c.matcher(a, a.pos[1])
	if err != nil {
		return nil, err
	}
	return &stringTest{source: src, m: m}, nil
}

func (t *stringTest) eval(r *runtime) (bool, error) {
	vals := make([]string, 0, len(t.source))
	for _, s := range t.source {
		v := r.expand(s)
		// :count counts the source strings that are not empty (RFC 5229
		// section 5).
		if t.m.typ == mCount && v == "" {
			continue
		}
		vals = append(vals, v)
	}
	return t.m.match(r, vals)
}
