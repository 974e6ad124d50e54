package sieve

import (
	"strings"
)

// The imap4flags extension (RFC 5232): setflag, addflag and removeflag
// on the internal variable (runtime.flags) or on a named variable, and
// the hasflag test. :flags on keep and fileinto is in core.go.

func init() {
	registerExtension(&extDef{name: "imap4flags"})
	for _, name := range []string{"setflag", "addflag", "removeflag"} {
		register(&cmdDef{name: name, ext: "imap4flags", pos: []argType{aStringList, aStringList},
			minPos: 1, build: buildFlagCmd})
	}
	register(&cmdDef{name: "hasflag", ext: "imap4flags", isTest: true, tags: matchTags,
		pos: []argType{aStringList, aStringList}, minPos: 1, build: buildHasflag})
}

// systemFlagNames are the system flags a script may set (RFC 3501
// section 2.3.2; \Recent is set by the server only).
var systemFlagNames = []string{`\answered`, `\flagged`, `\deleted`, `\seen`, `\draft`}

// validFlag reports whether f can be stored: a known system flag or an
// IMAP atom as a keyword. Others are ignored (RFC 5232 section 3: the
// server may drop flags it cannot store).
func validFlag(f string) bool {
	if strings.HasPrefix(f, `\`) {
		for _, s := range systemFlagNames {
			if strings.EqualFold(f, s) {
				return true
			}
		}
		return false
	}
	if f == "" {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// validFlags keeps the flags that validFlag accepts.
func validFlags(flags []string) []string {
	var out []string
	for _, f := range flags {
		if validFlag(f) {
			out = append(out, f)
		}
	}
	return out
}

// splitFlags splits flag strings at white space, dropping duplicates
// (case-insensitively, the first spelling wins).
func splitFlags(list []string) []string {
	var out []string
	for _, s := range list {
		out = addFlags(out, strings.Fields(s))
	}
	return out
}

func removeFlags(set, del []string) []string {
	var out []string
	for _, f := range set {
		drop := false
		for _, d := range del {
			if strings.EqualFold(f, d) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, f)
		}
	}
	return out
}

type flagCmd struct {
	op      string // "setflag", "addflag" or "removeflag"
	varName string // "" for the internal variable
	flags   []str
}

func buildFlagCmd(c *compiler, a *args) (any, error) {
	cmd := &flagCmd{op: a.n.name}
	list := a.pos[0]
	if len(a.pos) == 2 {
		name, err := c.flagVariable(a.pos[0], 0)
		if err != nil {
			return nil, err
		}
		if a.pos[0].isList {
			return nil, errorAt(a.pos[0].pos, "the %s command expects a single variable name, not a list", a.n.name)
		}
		cmd.varName = name
		list = a.pos[1]
	}
	var err error
	if cmd.flags, err = c.strList(list); err != nil {
		return nil, err
	}
	return cmd, nil
}

// flagVariable checks the i-th string of a as a variable name; naming a
// variable needs the variables extension (RFC 5232 section 3).
func (c *compiler) flagVariable(a *argument, i int) (string, error) {
	if !c.has("variables") {
		return "", errorAt(a.pos, "a variable name argument requires the variables extension")
	}
	name, err := c.constString(a, i, "variable name")
	if err != nil {
		return "", err
	}
	if err := c.checkVariableName(name, a.pos); err != nil {
		return "", err
	}
	return strings.ToLower(name), nil
}

func (f *flagCmd) exec(r *runtime) error {
	var add []string
	for _, s := range f.flags {
		add = append(add, r.expand(s))
	}
	add = splitFlags(add)
	if f.varName == "" {
		switch f.op {
		case "setflag":
			r.flags = validFlags(add)
		case "addflag":
			r.flags = addFlags(r.flags, validFlags(add))
		case "removeflag":
			r.flags = removeFlags(r.flags, add)
		}
		return nil
	}
	cur := splitFlags([]string{r.variableValue(f.varName)})
	switch f.op {
	case "setflag":
		cur = add
	case "addflag":
		cur = addFlags(cur, add)
	case "removeflag":
		cur = removeFlags(cur, add)
	}
	return r.setVariable(f.varName, strings.Join(cur, " "))
}

// variableValue reads a variable by its (lower case) name.
func (r *runtime) variableValue(name string) string {
	return r.variable(strPart{isRef: true, name: name, num: -1})
}

type hasflagTest struct {
	vars []string // nil: the internal variable
	m    *matcher
}

func buildHasflag(c *compiler, a *args) (any, error) {
	t := &hasflagTest{}
	keys := a.pos[0]
	if len(a.pos) == 2 {
		for i := range a.pos[0].strs {
			name, err := c.flagVariable(a.pos[0], i)
			if err != nil {
				return nil, err
			}
			t.vars = append(t.vars, name)
		}
		keys = a.pos[1]
	}
	m, err := c.matcher(a, keys)
	if err != nil {
		return nil, err
	}
	t.m = m
	return t, nil
}

func (t *hasflagTest) eval(r *runtime) (bool, error) {
	var flags []string
	if t.vars == nil {
		flags = r.flags
	} else {
		for _, v := range t.vars {
			flags = append(flags, splitFlags([]string{r.variableValue(v)})...)
		}
	}
	if t.m.typ == mCount || t.m.typ == mRegex {
		return t.m.match(r, flags)
	}
	// A key may list several flags too: each is a key of its own.
	var keys []string
	for _, k := range t.m.keys {
		keys = append(keys, r.expand(k))
	}
	m := *t.m
	m.keys = nil
	for _, k := range splitFlags(keys) {
		m.keys = append(m.keys, constStr(k))
	}
	return m.match(r, flags)
}
