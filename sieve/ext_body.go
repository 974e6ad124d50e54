package sieve

import (
	"slices"
	"strings"

	"letterbox/message"
)

// The body extension (RFC 5173): the body test with the :raw, :content
// and :text transforms. What it reads of the message is bounded by
// Limits.MaxBodySize per part (see mimepart.go).

func init() {
	registerExtension(&extDef{name: "body"})
	register(&cmdDef{name: "body", ext: "body", isTest: true, tags: withTags(matchTags, bodyTags),
		pos: []argType{aStringList}, minPos: -1, build: buildBody})
}

var bodyTags = []tagDef{
	{name: "raw", group: "transform"},
	{name: "content", param: aStringList, group: "transform"},
	{name: "text", group: "transform"},
}

type bodyTest struct {
	transform string // "raw", "content" or "text" (the default, RFC 5173 section 5)
	types     []str  // :content's content types
	m         *matcher
}

func buildBody(c *compiler, a *args) (any, error) {
	m, err := c.matcher(a, a.pos[0])
	if err != nil {
		return nil, err
	}
	t := &bodyTest{transform: a.group("transform"), m: m}
	if t.transform == "" {
		t.transform = "text"
	}
	if p, ok := a.tags["content"]; ok {
		if t.types, err = c.strList(p); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *bodyTest) eval(r *runtime) (bool, error) {
	// The body test never sets the match variables (RFC 5173 section 6):
	// keep those of the last test that did.
	saved := slices.Clone(r.match)
	defer func() { r.match = saved }()

	if !r.msg.hasBody() {
		return false, nil
	}
	limit := r.script.limits.MaxBodySize
	if t.transform == "raw" {
		return t.m.match(r, []string{r.msg.rawBody(limit)})
	}
	st, err := r.mimeState()
	if err != nil {
		return false, err
	}
	want := textWanted
	if t.transform == "content" {
		types := make([]string, len(t.types))
		for i, s := range t.types {
			types[i] = strings.ToLower(strings.TrimSpace(r.expand(s)))
		}
		want = func(typ, sub string) bool { return contentWanted(types, typ, sub) }
	}
	count := 0
	ok, err := r.eachBodyItem(st, st.root, want, t.transform == "text", func(item string) (bool, error) {
		if t.m.typ == mCount {
			count++
			return false, nil
		}
		return t.m.match(r, []string{item})
	})
	if err != nil || ok || t.m.typ != mCount {
		return ok, err
	}
	// :count only needs the number of items.
	return t.m.match(r, make([]string, count))
}

// textWanted picks the parts :text reads: text of any subtype, and XHTML.
func textWanted(typ, sub string) bool {
	return typ == "text" || typ == "application" && sub == "xhtml+xml"
}

// contentWanted matches a part's type against :content's list: "" is
// every part, "type" every subtype of it, "type/subtype" that one only
// (RFC 5173 section 5.2).
func contentWanted(types []string, typ, sub string) bool {
	if typ == "" {
		return false
	}
	for _, w := range types {
		t, s, hasSub := strings.Cut(w, "/")
		switch {
		case w == "":
			return true
		case !hasSub && t == typ:
			return true
		case hasSub && t == typ && s == sub:
			return true
		}
	}
	return false
}

// eachBodyItem calls yield with each string the body test compares,
// walking the MIME tree depth first, until yield returns true or an
// error. Following RFC 5173 section 5.2: a wanted multipart gives its
// preamble and its epilogue, a wanted message/rfc822 part the header of
// the message it holds, any other wanted part its decoded content; the
// search goes on into the parts inside whatever their parent's type.
func (r *runtime) eachBodyItem(st *mimeRun, p *message.Part, want func(typ, sub string) bool, text bool,
	yield func(string) (bool, error)) (bool, error) {
	if err := r.step(); err != nil {
		return false, err
	}
	limit := r.script.limits.MaxBodySize
	typ, sub := partType(p)
	if want(typ, sub) {
		var items []string
		switch {
		case p.Flags&message.PartMultipart != 0:
			pre, epi, hasEpi := r.preambleEpilogue(p, limit)
			items = append(items, pre)
			if hasEpi {
				items = append(items, epi)
			}
		case p.Flags&message.PartMessage != 0:
			inner := p.Message
			items = append(items, r.readRange(inner.Offset, inner.BodyOffset, limit))
		case text:
			if s, ok := r.partText(st, p, limit); ok {
				items = append(items, s)
			}
		default:
			if s, ok := r.partContent(st, p, limit); ok {
				items = append(items, s)
			}
		}
		for _, it := range items {
			if ok, err := yield(it); ok || err != nil {
				return ok, err
			}
		}
	}
	for _, c := range partChildren(p) {
		if ok, err := r.eachBodyItem(st, c, want, text, yield); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}
