package sieve

import (
	"mime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The editheader extension (RFC 5293): addheader and deleteheader. An
// edit replaces r.msg with an edited copy, so that later tests see the
// edit and actions taken before it keep the message they were given
// (keep, fileinto and redirect attach r.editedMessage()).

func init() {
	registerExtension(&extDef{name: "editheader"})
	register(&cmdDef{name: "addheader", ext: "editheader", tags: []tagDef{{name: "last"}},
		pos: []argType{aString, aString}, minPos: -1, build: buildAddHeader})
	register(&cmdDef{name: "deleteheader", ext: "editheader",
		tags: withTags(matchTags, []tagDef{{name: "index", param: aNumber}, {name: "last"}}),
		pos:  []argType{aString, aStringList}, minPos: 1, build: buildDeleteHeader})
}

// alwaysForbidDelete are the fields no script may delete: trace and
// loop-prevention fields (RFC 5293 section 6; Pigeonhole protects these
// two whatever its settings).
var alwaysForbidDelete = []string{"received", "auto-submitted"}

func forbidden(list []string, name string) bool {
	if strings.EqualFold(name, "subject") {
		// RFC 5293 section 6: Subject must stay editable.
		return false
	}
	return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, name) })
}

func (o *Options) forbidAdd(name string) bool {
	return o != nil && forbidden(o.EditHeader.ForbidAdd, name)
}

func (o *Options) forbidDelete(name string) bool {
	if forbidden(alwaysForbidDelete, name) {
		return true
	}
	return o != nil && forbidden(o.EditHeader.ForbidDelete, name)
}

// checkFieldName refuses what cannot be a field name (RFC 5322 section
// 3.6.8: printable ASCII but the colon).
func checkFieldName(name string) error {
	if name == "" || !validFieldName([]byte(name)) {
		return &Error{Msg: "field name '" + name + "' is invalid"}
	}
	return nil
}

// checkFieldValue refuses a value that no header can carry.
func checkFieldValue(v string, max int) error {
	switch {
	case strings.IndexByte(v, 0) >= 0:
		return &Error{Msg: "field value '" + strings.ReplaceAll(v, "\x00", "\\0") + "' is invalid (it contains a NUL character)"}
	case !utf8.ValidString(v):
		return &Error{Msg: "field value is invalid (not UTF-8)"}
	case len(v) > max:
		return &Error{Msg: "field value is too large (limit " + strconv.Itoa(max) + " bytes)"}
	}
	return nil
}

type addHeaderCmd struct {
	pos   Pos
	name  str
	value str
	last  bool
}

func buildAddHeader(c *compiler, a *args) (any, error) {
	name, err := c.str(a.pos[0], 0)
	if err != nil {
		return nil, err
	}
	if name.parts == nil {
		if err := checkFieldName(name.lit); err != nil {
			return nil, errorAt(a.pos[0].pos, "addheader: %s", err.(*Error).Msg)
		}
	}
	value, err := c.str(a.pos[1], 0)
	if err != nil {
		return nil, err
	}
	if value.parts == nil {
		if err := checkFieldValue(value.lit, c.limits.MaxHeaderSize); err != nil {
			return nil, errorAt(a.pos[1].pos, "addheader: %s", err.(*Error).Msg)
		}
	}
	return &addHeaderCmd{pos: a.n.pos, name: name, value: value, last: a.has("last")}, nil
}

func (c *addHeaderCmd) exec(r *runtime) error {
	name := r.expand(c.name)
	if err := checkFieldName(name); err != nil {
		return r.errorf(c.pos, "addheader: %s", err.(*Error).Msg)
	}
	value := r.expand(c.value)
	if err := checkFieldValue(value, r.script.limits.MaxHeaderSize); err != nil {
		return r.errorf(c.pos, "addheader: %s", err.(*Error).Msg)
	}
	if r.script.opts.forbidAdd(name) {
		// Not an error: the script goes on as if the field were added
		// (Pigeonhole only logs it).
		return nil
	}
	f := field{name: name, raw: encodeFieldValue(name, value), added: true}
	m := r.msg.clone()
	if c.last {
		m.fields = append(m.fields, f)
	} else {
		m.fields = append([]field{f}, m.fields...)
	}
	r.msg = m
	return nil
}

// encodeFieldValue turns a value into what follows "Name:" in the header:
// a leading space, non-ASCII text as RFC 2047 encoded words, line breaks
// in the value kept as folds, long lines folded at white space (RFC 5322
// section 2.2.3), so that reading it back gives the value again.
func encodeFieldValue(name, value string) string {
	value = strings.ReplaceAll(value, "\r\n", "\n")
	value = strings.TrimRight(value, "\n")
	var lines []string
	if needsEncodedWords(value) {
		// Encoded words cannot span a fold that is in the value; join the
		// lines as unfolding would.
		value = strings.ReplaceAll(value, "\n", "")
		lines = []string{mime.QEncoding.Encode("utf-8", value)}
	} else {
		lines = strings.Split(value, "\n")
	}
	var b strings.Builder
	col := len(name) + 1
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\r\n")
			col = 0
			if l == "" || l[0] != ' ' && l[0] != '\t' {
				// A line break the value put before a non-blank would end
				// the field: make it a fold.
				l = " " + l
			}
		} else {
			l = " " + l
		}
		col = foldLine(&b, l, col)
	}
	return b.String()
}

func needsEncodedWords(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// foldLine writes l, breaking it before white space so that lines stay
// within 78 characters where the text allows; col is the column l starts
// at. It returns the column after it.
func foldLine(b *strings.Builder, l string, col int) int {
	const width = 78
	for col+len(l) > width {
		// The last blank that keeps the line within width, not the first
		// character (a fold there would leave an empty line).
		cut := -1
		for i := 1; i < len(l) && col+i <= width; i++ {
			if l[i] == ' ' || l[i] == '\t' {
				cut = i
			}
		}
		if cut < 0 {
			// No blank within reach: break at the next one, if any.
			for i := 1; i < len(l); i++ {
				if l[i] == ' ' || l[i] == '\t' {
					cut = i
					break
				}
			}
		}
		if cut < 0 {
			break
		}
		b.WriteString(l[:cut])
		b.WriteString("\r\n")
		l = l[cut:]
		col = 0
	}
	b.WriteString(l)
	return col + len(l)
}

type deleteHeaderCmd struct {
	pos   Pos
	name  str
	index int
	last  bool
	m     *matcher // nil: no value patterns, every occurrence goes
}

func buildDeleteHeader(c *compiler, a *args) (any, error) {
	d := &deleteHeaderCmd{pos: a.n.pos, last: a.has("last")}
	if p, ok := a.tags["index"]; ok {
		if p.num == 0 {
			return nil, errorAt(p.pos, "deleteheader: the :index argument must be at least 1")
		}
		d.index = int(min(p.num, 1<<31-1))
	} else if d.last {
		return nil, errorAt(a.n.pos, "deleteheader: the :last tag cannot be specified without the :index tag")
	}
	var err error
	if d.name, err = c.str(a.pos[0], 0); err != nil {
		return nil, err
	}
	if d.name.parts == nil {
		if err := checkFieldName(d.name.lit); err != nil {
			return nil, errorAt(a.pos[0].pos, "deleteheader: %s", err.(*Error).Msg)
		}
	}
	if len(a.pos) > 1 {
		if d.m, err = c.matcher(a, a.pos[1]); err != nil {
			return nil, err
		}
	} else if a.has("comparator") || a.group("match") != "" {
		// A comparator or match type without patterns compiles, and
		// changes nothing (RFC 5293 section 5 makes the patterns
		// optional); build the matcher only for its checks.
		if _, err = c.matcher(a, &argument{pos: a.n.pos}); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *deleteHeaderCmd) exec(r *runtime) error {
	name := r.expand(d.name)
	if err := checkFieldName(name); err != nil {
		return r.errorf(d.pos, "deleteheader: %s", err.(*Error).Msg)
	}
	if r.script.opts.forbidDelete(name) {
		return nil
	}
	// Which occurrences: all, or the :index-th (from the end with :last).
	var idx []int
	for i, f := range r.msg.fields {
		if strings.EqualFold(f.name, name) {
			idx = append(idx, i)
		}
	}
	if d.index > 0 {
		if d.index > len(idx) {
			return nil
		}
		n := d.index - 1
		if d.last {
			n = len(idx) - d.index
		}
		idx = idx[n : n+1]
	}
	if d.m != nil {
		// Deleting is not a test: it leaves the match variables alone.
		saved := slices.Clone(r.match)
		var keep []int
		for _, i := range idx {
			v := decodeWords(strings.TrimSpace(unfold(r.msg.fields[i].raw)))
			ok, err := d.m.match(r, []string{v})
			if err != nil {
				r.match = saved
				return err
			}
			if ok {
				keep = append(keep, i)
			}
		}
		r.match = saved
		idx = keep
	}
	if len(idx) == 0 {
		return nil
	}
	m := r.msg.clone()
	out := m.fields[:0]
	for i, f := range m.fields {
		if len(idx) > 0 && idx[0] == i {
			idx = idx[1:]
			continue
		}
		out = append(out, f)
	}
	m.fields = out
	r.msg = m
	return nil
}
