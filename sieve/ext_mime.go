package sieve

import (
	"mime"
	"strings"
	"unicode/utf8"

	"letterbox/message"
)

// The mime, foreverypart and extracttext extensions (RFC 5703 sections
// 3, 4 and 7): a loop over the MIME parts, header/address/exists tests
// on the current part (:mime, :anychild; the tags themselves are parsed
// in core.go), and extracting a part's text into a variable.

// maxLoopDepth bounds foreverypart nesting, at compile time within one
// script and at run time across included scripts, as Pigeonhole does.
const maxLoopDepth = 4

func init() {
	registerExtension(&extDef{name: "mime"})
	registerExtension(&extDef{name: "foreverypart"})
	registerExtension(&extDef{name: "extracttext", needs: []string{"variables", "foreverypart"}})
	register(&cmdDef{name: "foreverypart", ext: "foreverypart", tags: []tagDef{{name: "name", param: aString}},
		block: true, enter: enterForeverypart, build: buildForeverypart})
	register(&cmdDef{name: "break", ext: "foreverypart", tags: []tagDef{{name: "name", param: aString}},
		build: buildBreak})
	register(&cmdDef{name: "extracttext", ext: "extracttext",
		tags: withTags(setTags, []tagDef{{name: "first", param: aNumber}}),
		pos:  []argType{aString}, minPos: -1, build: buildExtracttext})
	mimeHeaderValues = mimeValues
}

type foreverypartCmd struct {
	pos  Pos
	name string
	body []command
}

// loopStack is the compile-time stack of foreverypart loops around the
// command being compiled, innermost last.
type loopStack struct {
	loops []*foreverypartCmd
	// building maps a loop's node to its command while its block compiles.
	building map[*node]*foreverypartCmd
}

func (c *compiler) loopStack() *loopStack {
	st, _ := c.ext["foreverypart"].(*loopStack)
	if st == nil {
		st = &loopStack{building: map[*node]*foreverypartCmd{}}
		c.ext["foreverypart"] = st
	}
	return st
}

func enterForeverypart(c *compiler, a *args) (func(), error) {
	st := c.loopStack()
	if len(st.loops) >= maxLoopDepth {
		return nil, errorAt(a.n.pos, "foreverypart loops are nested too deeply (limit %d)", maxLoopDepth)
	}
	f := &foreverypartCmd{pos: a.n.pos}
	if p, ok := a.tags["name"]; ok {
		name, err := c.constString(p, 0, "loop name")
		if err != nil {
			return nil, err
		}
		f.name = name
	}
	st.loops = append(st.loops, f)
	st.building[a.n] = f
	c.loop++
	return func() {
		st.loops = st.loops[:len(st.loops)-1]
		c.loop--
	}, nil
}

func buildForeverypart(c *compiler, a *args) (any, error) {
	st := c.loopStack()
	f := st.building[a.n]
	delete(st.building, a.n)
	f.body = a.body
	return f, nil
}

// errBreak leaves the foreverypart loop it names.
type errBreak struct{ loop *foreverypartCmd }

func (e *errBreak) Error() string { return "break outside its foreverypart loop" }

func (f *foreverypartCmd) exec(r *runtime) error {
	st, err := r.mimeState()
	if err != nil {
		return err
	}
	if len(st.loops) >= maxLoopDepth {
		return r.errorf(f.pos, "foreverypart loops are nested too deeply (limit %d)", maxLoopDepth)
	}
	// The outermost loop visits the message itself and every part in it;
	// a nested loop the parts inside its parent's current part (RFC 5703
	// section 3.1), in the order they appear.
	var parts []*message.Part
	if len(st.loops) == 0 {
		parts = descendants([]*message.Part{st.root}, st.root)
	} else {
		parts = descendants(nil, st.current())
	}
	depth := len(st.loops)
	st.loops = append(st.loops, nil)
	defer func() { st.loops = st.loops[:depth] }()
	for _, p := range parts {
		if err := r.step(); err != nil {
			return err
		}
		st.loops[depth] = p
		err := r.block(f.body)
		if b, ok := err.(*errBreak); ok && b.loop == f {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type breakCmd struct{ loop *foreverypartCmd }

func buildBreak(c *compiler, a *args) (any, error) {
	st := c.loopStack()
	if len(st.loops) == 0 {
		return nil, errorAt(a.n.pos, "the break command is not valid outside a foreverypart loop")
	}
	p, named := a.tags["name"]
	if !named {
		return &breakCmd{loop: st.loops[len(st.loops)-1]}, nil
	}
	name, err := c.constString(p, 0, "loop name")
	if err != nil {
		return nil, err
	}
	for i := len(st.loops) - 1; i >= 0; i-- {
		if st.loops[i].name == name {
			return &breakCmd{loop: st.loops[i]}, nil
		}
	}
	return nil, errorAt(p.pos, "break :name \"%s\" names no enclosing foreverypart loop", name)
}

func (b *breakCmd) exec(*runtime) error { return &errBreak{loop: b.loop} }

// --- extracttext (RFC 5703 section 7) ---

type extracttextCmd struct {
	pos   Pos
	name  string
	first int // 0: all
	mods  []string
}

func buildExtracttext(c *compiler, a *args) (any, error) {
	if len(c.loopStack().loops) == 0 {
		return nil, errorAt(a.n.pos, "the extracttext command is not valid outside a foreverypart loop")
	}
	name, err := c.constString(a.pos[0], 0, "variable name")
	if err != nil {
		return nil, err
	}
	if err := c.checkVariableName(name, a.pos[0].pos); err != nil {
		return nil, err
	}
	x := &extracttextCmd{pos: a.n.pos, name: strings.ToLower(name)}
	if p, ok := a.tags["first"]; ok {
		x.first = int(min(p.num, 1<<31-1))
	}
	for _, m := range modifierOrder {
		if a.has(m) {
			x.mods = append(x.mods, m)
		}
	}
	return x, nil
}

func (x *extracttextCmd) exec(r *runtime) error {
	st, err := r.mimeState()
	if err != nil {
		return err
	}
	// A part that is not text (a multipart, an image…) gives the empty
	// string.
	v, _ := r.partText(st, st.current(), r.script.limits.MaxBodySize)
	if x.first > 0 {
		v = firstRunes(v, x.first)
	}
	max := r.script.limits.MaxVariableLen
	for _, m := range x.mods {
		v = applyModifier(m, v, max)
	}
	// The content may live in a buffer of the run (pooledBuf): keep a copy.
	return r.setVariable(x.name, strings.Clone(v))
}

// firstRunes cuts s to its first n characters.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// --- :mime and :anychild on header, address and exists (RFC 5703 section 4) ---

// mimeValues returns the values of the fields named name in the current
// part (with :anychild, in it and every part inside it); for header,
// :type, :subtype, :contenttype and :param pick pieces of the value.
func mimeValues(r *runtime, name string, sel *headerSel, raw bool) ([]string, error) {
	st, err := r.mimeState()
	if err != nil {
		return nil, err
	}
	cur := st.current()
	parts := []*message.Part{cur}
	if sel.anychild {
		parts = descendants(parts, cur)
	}
	var params []string
	for _, p := range sel.params {
		params = append(params, r.expand(p))
	}
	var out []string
	for _, p := range parts {
		if err := r.step(); err != nil {
			return nil, err
		}
		for _, f := range st.fields(r, p) {
			if !strings.EqualFold(f.name, name) {
				continue
			}
			v := unfold(f.raw)
			if raw {
				out = append(out, v)
				continue
			}
			if sel.mimeOpt == "" {
				out = append(out, decodeWords(strings.TrimSpace(v)))
				continue
			}
			out = append(out, mimeOption(v, sel.mimeOpt, params)...)
		}
	}
	return out, nil
}

// mimeOption applies :type, :subtype, :contenttype or :param to a
// Content-Type-like value. A value that does not parse gives nothing.
func mimeOption(v, opt string, params []string) []string {
	mt, ps, err := mime.ParseMediaType(strings.TrimSpace(v))
	if mt == "" {
		return nil
	}
	typ, sub, hasSub := strings.Cut(mt, "/")
	switch opt {
	case "type":
		if hasSub {
			return []string{typ}
		}
	case "subtype":
		if hasSub {
			return []string{sub}
		}
	case "contenttype":
		if hasSub {
			return []string{mt}
		}
	case "param":
		if err != nil {
			return nil
		}
		var out []string
		for _, name := range params {
			if pv, ok := ps[strings.ToLower(name)]; ok {
				if utf8.ValidString(pv) {
					pv = decodeWords(pv)
				}
				out = append(out, pv)
			}
		}
		return out
	}
	return nil
}
