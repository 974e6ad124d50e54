package sieve

// The reject and ereject extensions (RFC 5429). Both refuse the message;
// the delivery side answers the LMTP recipient with 550 5.7.1 and the
// reason, so the MTA writes the bounce (RFC 5429 section 2.1 allows a
// protocol-level refusal). Conflicts with other actions are in actions.go.

func init() {
	registerExtension(&extDef{name: "reject"})
	registerExtension(&extDef{name: "ereject"})
	register(&cmdDef{name: "reject", ext: "reject", pos: []argType{aString}, minPos: -1, build: buildReject(false)})
	register(&cmdDef{name: "ereject", ext: "ereject", pos: []argType{aString}, minPos: -1, build: buildReject(true)})
}

type rejectCmd struct {
	pos      Pos
	reason   str
	extended bool
}

func buildReject(extended bool) func(c *compiler, a *args) (any, error) {
	return func(c *compiler, a *args) (any, error) {
		reason, err := c.str(a.pos[0], 0)
		if err != nil {
			return nil, err
		}
		return &rejectCmd{pos: a.n.pos, reason: reason, extended: extended}, nil
	}
}

func (c *rejectCmd) exec(r *runtime) error {
	// A vacation reply that the RFC 3834 rules suppressed is not in the
	// result, but it still was a response to the sender (RFC 5429
	// section 2.3: reject and vacation are incompatible).
	if v, ok := r.ext["vacation"].(*vacationState); ok && v.suppressed {
		return r.errorf(c.pos, "%s action conflicts with earlier vacation action", c.name())
	}
	// Reject cancels the implicit keep (RFC 5429 section 2.1).
	return r.addAction(c.pos, &Reject{Reason: r.expand(c.reason), Extended: c.extended}, true)
}

func (c *rejectCmd) name() string {
	if c.extended {
		return "ereject"
	}
	return "reject"
}
