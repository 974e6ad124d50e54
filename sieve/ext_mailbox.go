package sieve

import "strings"

// The mailbox extension (RFC 5490 section 3: mailboxexists; :create on
// fileinto is in core.go) and special-use (RFC 8579: specialuse_exists;
// :specialuse on fileinto is in core.go).

func init() {
	registerExtension(&extDef{name: "mailbox"})
	registerExtension(&extDef{name: "special-use"})
	register(&cmdDef{name: "mailboxexists", ext: "mailbox", isTest: true, pos: []argType{aStringList},
		minPos: -1, build: buildMailboxExists})
	register(&cmdDef{name: "specialuse_exists", ext: "special-use", isTest: true,
		pos: []argType{aStringList, aStringList}, minPos: 1, build: buildSpecialUseExists})
}

type mailboxExistsTest struct{ names []str }

func buildMailboxExists(c *compiler, a *args) (any, error) {
	names, err := c.strList(a.pos[0])
	if err != nil {
		return nil, err
	}
	return &mailboxExistsTest{names: names}, nil
}

// mailboxExists answers for one name; without a Mailboxes only INBOX
// exists.
func (r *runtime) mailboxExists(name string) bool {
	if checkMailboxName(name) != nil {
		return false
	}
	if r.in.Mailboxes == nil {
		return strings.EqualFold(name, "INBOX")
	}
	return r.in.Mailboxes.MailboxExists(name)
}

// eval is true when every named mailbox exists (RFC 5490 section 3.1).
func (t *mailboxExistsTest) eval(r *runtime) (bool, error) {
	for _, n := range t.names {
		if !r.mailboxExists(r.expand(n)) {
			return false, nil
		}
	}
	return true, nil
}

// validSpecialUse reports whether f is a special-use flag as RFC 6154
// writes them: a backslash and an atom.
func validSpecialUse(f string) bool {
	if len(f) < 2 || f[0] != '\\' {
		return false
	}
	return validFlag(f[1:])
}

type specialUseTest struct {
	mailbox    str
	hasMailbox bool
	flags      []str
}

func buildSpecialUseExists(c *compiler, a *args) (any, error) {
	t := &specialUseTest{}
	list := a.pos[0]
	if len(a.pos) == 2 {
		if a.pos[0].isList {
			return nil, errorAt(a.pos[0].pos, "the specialuse_exists test expects a single mailbox name, not a list")
		}
		mb, err := c.str(a.pos[0], 0)
		if err != nil {
			return nil, err
		}
		if mb.parts == nil {
			if err := checkMailboxName(mb.lit); err != nil {
				return nil, errorAt(a.pos[0].pos, "%v", err)
			}
		}
		t.mailbox, t.hasMailbox = mb, true
		list = a.pos[1]
	}
	flags, err := c.strList(list)
	if err != nil {
		return nil, err
	}
	for i, f := range flags {
		if f.parts == nil && !validSpecialUse(f.lit) {
			return nil, errorAt(list.strPos[i], "invalid special-use flag '%s'", f.lit)
		}
	}
	t.flags = flags
	return t, nil
}

// eval is true when the mailbox (or, without one, some mailbox for each
// flag) carries every flag listed (RFC 8579 section 4).
func (t *specialUseTest) eval(r *runtime) (bool, error) {
	var flags []string
	for _, f := range t.flags {
		v := r.expand(f)
		if !validSpecialUse(v) {
			return false, r.errorf(Pos{}, "invalid special-use flag '%s'", v)
		}
		flags = append(flags, v)
	}
	if r.in.Mailboxes == nil {
		return false, nil
	}
	if !t.hasMailbox {
		for _, f := range flags {
			if !r.in.Mailboxes.SpecialUseExists("", []string{f}) {
				return false, nil
			}
		}
		return true, nil
	}
	name := r.expand(t.mailbox)
	if !r.mailboxExists(name) {
		return false, nil
	}
	return r.in.Mailboxes.SpecialUseExists(name, flags), nil
}
