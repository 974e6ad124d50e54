package sieve

// The ihave extension (RFC 5463): the ihave test and the error command.
//
// Whether an extension is available is known when the script is
// compiled (Options fix it), so ihave is decided then. An extension that
// ihave finds becomes usable as if required (RFC 5463 section 4: its use
// is not tied to the block structure). A block guarded by an ihave that
// is false is not compiled at all: it may use commands we do not know
// and can never run (compile.go asks guardOK).

func init() {
	registerExtension(&extDef{name: "ihave"})
	register(&cmdDef{name: "ihave", ext: "ihave", isTest: true, pos: []argType{aStringList},
		minPos: -1, build: buildIhave})
	register(&cmdDef{name: "error", ext: "ihave", pos: []argType{aString}, minPos: -1, build: buildError})
}

// notViaIhave are extensions ihave never reports: they change how the
// script text itself is read, which is done before ihave could run
// (Pigeonhole refuses them the same way).
var notViaIhave = map[string]bool{"variables": true, "encoded-character": true}

type ihaveTest struct{ ok bool }

func (t *ihaveTest) eval(*runtime) (bool, error) { return t.ok, nil }

// guardOK tells the compiler whether the block this test guards can run.
func (t *ihaveTest) guardOK() bool { return t.ok }

func buildIhave(c *compiler, a *args) (any, error) {
	var names []string
	for i := range a.pos[0].strs {
		// The capability list is a constant (RFC 5463 section 4).
		name, err := c.constString(a.pos[0], i, "ihave capability")
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	for _, name := range names {
		registryMu.RLock()
		_, known := extensions[name]
		registryMu.RUnlock()
		if !known || notViaIhave[name] || c.opts.disabled(name) {
			return &ihaveTest{ok: false}, nil
		}
	}
	for _, name := range names {
		if err := c.requireExt(name, a.pos[0].pos); err != nil {
			return nil, err
		}
	}
	return &ihaveTest{ok: true}, nil
}

type errorCmd struct {
	pos Pos
	msg str
}

func buildError(c *compiler, a *args) (any, error) {
	msg, err := c.str(a.pos[0], 0)
	if err != nil {
		return nil, err
	}
	return &errorCmd{pos: a.n.pos, msg: msg}, nil
}

// exec fails the run with the script's message (RFC 5463 section 5).
func (e *errorCmd) exec(r *runtime) error {
	return r.errorf(e.pos, "%s", r.expand(e.msg))
}
