package sieve

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"letterbox/message"
)

// The base language (RFC 5228) and the small extensions that only add
// tags or names to it: fileinto, envelope, encoded-character, the
// comparators, relational, regex, copy, subaddress.

func init() {
	for _, name := range []string{"fileinto", "envelope", "encoded-character", "comparator-i;octet",
		"comparator-i;ascii-casemap", "comparator-i;ascii-numeric", "comparator-i;unicode-casemap",
		"relational", "regex", "copy", "subaddress", "index"} {
		registerExtension(&extDef{name: name})
	}

	register(&cmdDef{name: "stop", build: func(*compiler, *args) (any, error) { return stopCmd{}, nil }})
	register(&cmdDef{name: "keep", tags: deliveryTags, build: buildKeep})
	register(&cmdDef{name: "discard", build: func(_ *compiler, a *args) (any, error) { return &discardCmd{pos: a.n.pos}, nil }})
	register(&cmdDef{name: "redirect", tags: redirectTags, pos: []argType{aString}, minPos: -1, build: buildRedirect})
	register(&cmdDef{name: "fileinto", ext: "fileinto", tags: withTags(deliveryTags, fileintoTags),
		pos: []argType{aString}, minPos: -1, build: buildFileInto})

	register(&cmdDef{name: "true", isTest: true, build: func(*compiler, *args) (any, error) { return constTest(true), nil }})
	register(&cmdDef{name: "false", isTest: true, build: func(*compiler, *args) (any, error) { return constTest(false), nil }})
	register(&cmdDef{name: "not", isTest: true, tests: 1, build: func(_ *compiler, a *args) (any, error) { return &notTest{a.tests[0]}, nil }})
	register(&cmdDef{name: "allof", isTest: true, tests: -1, build: func(_ *compiler, a *args) (any, error) { return &allofTest{a.tests}, nil }})
	register(&cmdDef{name: "anyof", isTest: true, tests: -1, build: func(_ *compiler, a *args) (any, error) { return &anyofTest{a.tests}, nil }})
	register(&cmdDef{name: "size", isTest: true, tags: []tagDef{{name: "over", group: "size"}, {name: "under", group: "size"}},
		pos: []argType{aNumber}, minPos: -1, build: buildSize})
	register(&cmdDef{name: "exists", isTest: true, tags: headerSelTags(false), pos: []argType{aStringList}, minPos: -1, build: buildExists})
	register(&cmdDef{name: "header", isTest: true, tags: withTags(matchTags, headerSelTags(true)),
		pos: []argType{aStringList, aStringList}, minPos: -1, build: buildHeader})
	register(&cmdDef{name: "address", isTest: true, tags: withTags(matchTags, addressPartTags, headerSelTags(false)),
		pos: []argType{aStringList, aStringList}, minPos: -1, build: buildAddress})
	register(&cmdDef{name: "envelope", ext: "envelope", isTest: true, tags: withTags(matchTags, addressPartTags),
		pos: []argType{aStringList, aStringList}, minPos: -1, build: buildEnvelope})
}

// deliveryTags are the tags keep and fileinto share.
var deliveryTags = []tagDef{{name: "flags", ext: "imap4flags", param: aStringList}}

var fileintoTags = []tagDef{
	{name: "copy", ext: "copy"},
	{name: "create", ext: "mailbox"},
	{name: "specialuse", ext: "special-use", param: aString},
}

var redirectTags = []tagDef{{name: "copy", ext: "copy"}, {name: "list", ext: "extlists", param: aString}}

var addressPartTags = []tagDef{
	{name: "all", group: "addrpart"},
	{name: "localpart", group: "addrpart"},
	{name: "domain", group: "addrpart"},
	{name: "user", ext: "subaddress", group: "addrpart"},
	{name: "detail", ext: "subaddress", group: "addrpart"},
}

// headerSelTags are the tags that choose which header fields a test
// reads: index (RFC 5260 section 6) and mime (RFC 5703 section 4).
func headerSelTags(withMimeOpts bool) []tagDef {
	t := []tagDef{
		{name: "index", ext: "index", param: aNumber},
		{name: "last", ext: "index"},
		{name: "mime", ext: "mime"},
		{name: "anychild", ext: "mime"},
	}
	if withMimeOpts {
		t = append(t,
			tagDef{name: "type", ext: "mime", group: "mimeopt"},
			tagDef{name: "subtype", ext: "mime", group: "mimeopt"},
			tagDef{name: "contenttype", ext: "mime", group: "mimeopt"},
			tagDef{name: "param", ext: "mime", param: aStringList, group: "mimeopt"},
		)
	}
	return t
}

// --- actions ---

type keepCmd struct {
	pos   Pos
	flags []str // nil: the internal variable
	hasFl bool
}

func buildKeep(c *compiler, a *args) (any, error) {
	k := &keepCmd{pos: a.n.pos}
	if p, ok := a.tags["flags"]; ok {
		fl, err := c.strList(p)
		if err != nil {
			return nil, err
		}
		k.flags, k.hasFl = fl, true
	}
	return k, nil
}

func (k *keepCmd) exec(r *runtime) error {
	flags := r.currentFlags()
	if k.hasFl {
		flags = r.flagList(k.flags)
	}
	return r.addAction(k.pos, &Keep{Flags: flags, Message: r.editedMessage()}, true)
}

type discardCmd struct{ pos Pos }

func (d *discardCmd) exec(r *runtime) error {
	// Discard only cancels the implicit keep (RFC 5228 section 4.4);
	// recording it lets sieve-test style output show it.
	for _, a := range r.res.Actions {
		if _, ok := a.(*Discard); ok {
			r.keep = false
			return nil
		}
	}
	return r.addAction(d.pos, &Discard{}, true)
}

type redirectCmd struct {
	pos  Pos
	addr str
	copy bool
}

func buildRedirect(c *compiler, a *args) (any, error) {
	s, err := c.str(a.pos[0], 0)
	if err != nil {
		return nil, err
	}
	if s.parts == nil {
		if _, err := normalizeAddress(s.lit); err != nil {
			return nil, errorAt(a.pos[0].pos, "specified redirect address '%s' is invalid: %v", s.lit, err)
		}
	}
	return &redirectCmd{pos: a.n.pos, addr: s, copy: a.has("copy")}, nil
}

// normalizeAddress checks a redirect or vacation address and returns
// its bare addr-spec ("Name <a@b>" becomes "a@b").
func normalizeAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil {
		// net/mail refuses white space around "@" and inside "<...>",
		// which RFC 5322's obsolete syntax allows and Pigeonhole accepts
		// ("stephan @ example.org", "Name< a@b >").
		if l := message.ParseAddressList(s); len(l) == 1 && !l[0].IsGroupStart() &&
			l[0].Mailbox != message.MissingMailbox && l[0].Host != message.MissingDomain && l[0].Host != "" {
			return l[0].Mailbox + "@" + l[0].Host, nil
		}
		return "", err
	}
	if !strings.Contains(a.Address, "@") {
		return "", errInvalidAddress
	}
	return a.Address, nil
}

var errInvalidAddress = &Error{Msg: "not a mail address"}

func (c *redirectCmd) exec(r *runtime) error {
	v := r.expand(c.addr)
	addr, err := normalizeAddress(v)
	if err != nil {
		return r.errorf(c.pos, "specified redirect address '%s' is invalid", v)
	}
	return r.addAction(c.pos, &Redirect{Address: addr, Copy: c.copy, Message: r.editedMessage()}, !c.copy)
}

type fileintoCmd struct {
	pos        Pos
	mailbox    str
	flags      []str
	hasFlags   bool
	copy       bool
	create     bool
	specialUse str
	hasSpecial bool
}

func buildFileInto(c *compiler, a *args) (any, error) {
	mb, err := c.str(a.pos[0], 0)
	if err != nil {
		return nil, err
	}
	if mb.parts == nil {
		if err := checkMailboxName(mb.lit); err != nil {
			return nil, errorAt(a.pos[0].pos, "%v", err)
		}
	}
	f := &fileintoCmd{pos: a.n.pos, mailbox: mb, copy: a.has("copy"), create: a.has("create")}
	if p, ok := a.tags["flags"]; ok {
		if f.flags, err = c.strList(p); err != nil {
			return nil, err
		}
		f.hasFlags = true
	}
	if p, ok := a.tags["specialuse"]; ok {
		if f.specialUse, err = c.str(p, 0); err != nil {
			return nil, err
		}
		if f.specialUse.parts == nil && !validSpecialUse(f.specialUse.lit) {
			return nil, errorAt(p.pos, "invalid special-use flag '%s'", f.specialUse.lit)
		}
		f.hasSpecial = true
	}
	return f, nil
}

// checkMailboxName refuses names no mailbox can have.
func checkMailboxName(name string) error {
	switch {
	case name == "":
		return &Error{Msg: "mailbox name is empty"}
	case !utf8.ValidString(name):
		return &Error{Msg: "mailbox name is not valid UTF-8"}
	case strings.ContainsAny(name, "\x00\r\n"):
		return &Error{Msg: "mailbox name contains a control character"}
	}
	return nil
}

func (f *fileintoCmd) exec(r *runtime) error {
	name := r.expand(f.mailbox)
	if err := checkMailboxName(name); err != nil {
		return r.errorf(f.pos, "invalid mailbox name '%s': %v", name, err.(*Error).Msg)
	}
	flags := r.currentFlags()
	if f.hasFlags {
		flags = r.flagList(f.flags)
	}
	act := &FileInto{Mailbox: name, Flags: flags, Copy: f.copy, Create: f.create, Message: r.editedMessage()}
	if f.hasSpecial {
		act.SpecialUse = r.expand(f.specialUse)
		if !validSpecialUse(act.SpecialUse) {
			return r.errorf(f.pos, "invalid special-use flag '%s'", act.SpecialUse)
		}
	}
	return r.addAction(f.pos, act, !f.copy)
}

// flagList expands a :flags argument into the flag names it lists
// (each string may hold several, space separated; RFC 5232 section 5).
func (r *runtime) flagList(list []str) []string {
	var out []string
	for _, s := range list {
		out = addFlags(out, validFlags(strings.Fields(r.expand(s))))
	}
	return out
}

// --- tests ---

type constTest bool

func (t constTest) eval(*runtime) (bool, error) { return bool(t), nil }

type notTest struct{ t test }

func (n *notTest) eval(r *runtime) (bool, error) {
	ok, err := n.t.eval(r)
	return !ok, err
}

type allofTest struct{ tests []test }

func (a *allofTest) eval(r *runtime) (bool, error) {
	for _, t := range a.tests {
		ok, err := t.eval(r)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

type anyofTest struct{ tests []test }

func (a *anyofTest) eval(r *runtime) (bool, error) {
	for _, t := range a.tests {
		ok, err := t.eval(r)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

type sizeTest struct {
	over  bool
	limit uint64
}

func buildSize(_ *compiler, a *args) (any, error) {
	if a.group("size") == "" {
		return nil, errorAt(a.n.pos, "the size test requires :over or :under")
	}
	return &sizeTest{over: a.has("over"), limit: a.pos[0].num}, nil
}

func (s *sizeTest) eval(r *runtime) (bool, error) {
	size := uint64(r.msg.Size())
	if s.over {
		return size > s.limit, nil
	}
	return size < s.limit, nil
}

// headerSel is how a test picks header fields: all of them, the n-th
// (from the end with :last), or those of MIME parts.
type headerSel struct {
	index    int // 0: all
	last     bool
	mime     bool
	anychild bool
	mimeOpt  string // "type", "subtype", "contenttype", "param"
	params   []str
}

func (c *compiler) headerSel(a *args) (*headerSel, error) {
	s := &headerSel{mime: a.has("mime"), anychild: a.has("anychild"), mimeOpt: a.group("mimeopt")}
	if p, ok := a.tags["index"]; ok {
		if p.num == 0 {
			return nil, errorAt(p.pos, "the :index argument must be at least 1")
		}
		s.index = int(p.num)
	}
	if a.has("last") {
		if s.index == 0 {
			return nil, errorAt(a.n.pos, "the :last tag requires :index")
		}
		s.last = true
	}
	if (s.anychild || s.mimeOpt != "") && !s.mime {
		return nil, errorAt(a.n.pos, "the :anychild, :type, :subtype, :contenttype and :param tags require :mime")
	}
	if p, ok := a.tags["param"]; ok {
		var err error
		if s.params, err = c.strList(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// mimeHeaderValues reads header fields of MIME parts (:mime, RFC 5703);
// the mime extension sets it.
var mimeHeaderValues func(r *runtime, name string, sel *headerSel, raw bool) ([]string, error)

// values returns the (decoded, or raw for addresses) values of the
// fields named name that sel picks.
func (s *headerSel) values(r *runtime, name string, raw bool) ([]string, error) {
	var vals []string
	if s.mime {
		var err error
		if vals, err = mimeHeaderValues(r, name, s, raw); err != nil {
			return nil, err
		}
	} else {
		vals = r.fieldValues(name, raw)
	}
	return pickIndex(vals, s.index, s.last), nil
}

// fieldValues returns the values of the message's fields named name, raw
// (unfolded only) or as header tests see them, once per run: scripts test
// the same few fields rule after rule. The result is shared: read it
// only. A message that editheader changed is another *Message, so its
// fields are looked up anew.
func (r *runtime) fieldValues(name string, raw bool) []string {
	return runCached(&r.fields, fieldKey{r.msg, strings.ToLower(name), raw}, func() []string {
		if raw {
			return r.msg.rawValues(name)
		}
		return r.msg.headerValues(name)
	})
}

// runCached returns (*m)[k], made by f on first use. A run keeps at most
// 256 entries per cache: a script cannot make it grow without bound.
func runCached[K comparable, V any](m *map[K]V, k K, f func() V) V {
	if v, ok := (*m)[k]; ok {
		return v
	}
	v := f()
	if *m == nil {
		*m = map[K]V{}
	}
	if len(*m) < 256 {
		(*m)[k] = v
	}
	return v
}

type fieldKey struct {
	msg  *Message
	name string
	raw  bool
}

// pickIndex applies :index and :last (RFC 5260 section 6).
func pickIndex(vals []string, index int, last bool) []string {
	if index == 0 {
		return vals
	}
	if index > len(vals) {
		return nil
	}
	if last {
		return vals[len(vals)-index : len(vals)-index+1]
	}
	return vals[index-1 : index]
}

type existsTest struct {
	names []str
	sel   *headerSel
}

func buildExists(c *compiler, a *args) (any, error) {
	// A name no field can have ("subject:", "") is not an error: it
	// matches nothing, as in Pigeonhole, which only warns (its
	// test-header.svtest "Invalid header name").
	names, err := c.strList(a.pos[0])
	if err != nil {
		return nil, err
	}
	sel, err := c.headerSel(a)
	if err != nil {
		return nil, err
	}
	return &existsTest{names: names, sel: sel}, nil
}

func (e *existsTest) eval(r *runtime) (bool, error) {
	for _, n := range e.names {
		vals, err := e.sel.values(r, r.expand(n), true)
		if err != nil {
			return false, err
		}
		if len(vals) == 0 {
			return false, nil
		}
	}
	return true, nil
}

type headerTest struct {
	names []str
	sel   *headerSel
	m     *matcher
}

func buildHeader(c *compiler, a *args) (any, error) {
	names, sel, m, err := c.fieldTest(a)
	if err != nil {
		return nil, err
	}
	return &headerTest{names: names, sel: sel, m: m}, nil
}

func (h *headerTest) eval(r *runtime) (bool, error) {
	return h.m.matchEach(r, len(h.names), func(i int) ([]string, error) {
		return h.sel.values(r, r.expand(h.names[i]), false)
	})
}

// addressPart selects part of an address.
type addressPart string

func (c *compiler) addressPart(a *args) addressPart {
	if p := a.group("addrpart"); p != "" {
		return addressPart(p)
	}
	return "all"
}

// detailSeparator is the subaddress separator (RFC 5233), as the LMTP
// server's default recipient delimiter.
const detailSeparator = "+"

// recipientDelimiter is the set of subaddress separators in use.
func (o *Options) recipientDelimiter() string {
	if o == nil || o.RecipientDelimiter == "" {
		return detailSeparator
	}
	return o.RecipientDelimiter
}

// extract returns the part of local@domain the test compares; ok is
// false when the address has no such part (:detail without separator).
// Any character of sep separates user and detail; the first one found
// counts (Dovecot's recipient_delimiter).
func (p addressPart) extract(local, domain, sep string) (string, bool) {
	switch p {
	case "localpart":
		return local, true
	case "domain":
		return domain, true
	case "user":
		if i := strings.IndexAny(local, sep); i >= 0 {
			return local[:i], true
		}
		return local, true
	case "detail":
		if i := strings.IndexAny(local, sep); i >= 0 {
			_, n := utf8.DecodeRuneInString(local[i:])
			return local[i+n:], true
		}
		return "", false
	}
	if domain == "" {
		return local, true
	}
	return local + "@" + domain, true
}

type addressTest struct {
	names []str
	part  addressPart
	sel   *headerSel
	m     *matcher
}

// fieldTest compiles what header and address share: the field names,
// which fields (index, mime) and the matcher.
func (c *compiler) fieldTest(a *args) ([]str, *headerSel, *matcher, error) {
	// A name no field can have ("subject:", "") is not an error: it
	// matches nothing, as in Pigeonhole, which only warns (its
	// test-header.svtest "Invalid header name").
	names, err := c.strList(a.pos[0])
	if err != nil {
		return nil, nil, nil, err
	}
	sel, err := c.headerSel(a)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := c.matcher(a, a.pos[1])
	return names, sel, m, err
}

func buildAddress(c *compiler, a *args) (any, error) {
	names, sel, m, err := c.fieldTest(a)
	if err != nil {
		return nil, err
	}
	return &addressTest{names: names, part: c.addressPart(a), sel: sel, m: m}, nil
}

func (t *addressTest) eval(r *runtime) (bool, error) {
	return t.m.matchEach(r, len(t.names), func(i int) ([]string, error) {
		raw, err := t.sel.values(r, r.expand(t.names[i]), true)
		if len(raw) == 1 {
			return r.addressParts(raw[0], t.part), err // shared: read only
		}
		var vals []string
		for _, v := range raw {
			vals = append(vals, r.addressParts(v, t.part)...)
		}
		return vals, err
	})
}

// addressValues parses a header value as an address list and returns
// the selected part of every address in it. A value that holds no
// address at all is compared whole, as a string (RFC 5228 section 5.1
// leaves this to the implementation; Pigeonhole does the same).
func addressValues(v string, part addressPart) []string {
	return addressValuesSep(v, part, detailSeparator)
}

// addressValuesSep is addressValues with the subaddress separators sep.
func addressValuesSep(v string, part addressPart, sep string) []string {
	return addressParts(message.ParseAddressList(unfold(v)), v, part, sep)
}

// addresses parses a field value as an address list, once per run: many
// rules test the same From.
func (r *runtime) addresses(v string) []message.Address {
	return runCached(&r.addrCache, v, func() []message.Address { return message.ParseAddressList(unfold(v)) })
}

// addressParts returns part of every address in field value v, once per
// run: many rules test the same From. The result is shared: read it only.
func (r *runtime) addressParts(v string, part addressPart) []string {
	sep := r.script.opts.recipientDelimiter()
	return runCached(&r.addrParts, addrPartKey{v, part, sep}, func() []string {
		return addressParts(r.addresses(v), v, part, sep)
	})
}

type addrPartKey struct {
	value string
	part  addressPart
	sep   string
}

// addressParts selects part of every address of list, parsed from v.
func addressParts(list []message.Address, v string, part addressPart, sep string) []string {
	var out []string
	found := false
	for _, a := range list {
		if a.IsGroupStart() || a.IsGroupEnd() {
			continue
		}
		found = true
		local, domain := a.Mailbox, a.Host
		invalid := local == message.MissingMailbox || domain == message.MissingDomain
		if invalid && part != "all" {
			// A syntactically invalid address has no local part or
			// domain to match (RFC 5228 section 5.1); :all still sees it.
			continue
		}
		if local == message.MissingMailbox {
			local = ""
		}
		if domain == message.MissingDomain {
			domain = ""
		}
		if s, ok := part.extract(local, domain, sep); ok {
			out = append(out, s)
		}
	}
	if !found && part == "all" {
		// An empty field is the empty address for :all (Pigeonhole's
		// test-address.svtest "Invalid addresses").
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

type envelopeTest struct {
	parts []str
	part  addressPart
	m     *matcher
}

var envelopeParts = map[string]bool{"from": true, "to": true, "auth": true}

func buildEnvelope(c *compiler, a *args) (any, error) {
	parts, err := c.strList(a.pos[0])
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		if p.parts == nil && !envelopeParts[strings.ToLower(p.lit)] {
			return nil, errorAt(a.pos[0].pos, "unknown envelope part '%s'", p.lit)
		}
	}
	m, err := c.matcher(a, a.pos[1])
	if err != nil {
		return nil, err
	}
	return &envelopeTest{parts: parts, part: c.addressPart(a), m: m}, nil
}

func (t *envelopeTest) eval(r *runtime) (bool, error) {
	return t.m.matchEach(r, len(t.parts), func(i int) ([]string, error) {
		return t.values(r, r.expand(t.parts[i])), nil
	})
}

// values returns what the envelope test compares of one envelope part;
// none for a part the envelope does not have.
func (t *envelopeTest) values(r *runtime, part string) []string {
	var addr string
	switch strings.ToLower(part) {
	case "from":
		addr = r.in.Envelope.From
	case "to":
		// The original recipient when known, as Pigeonhole answers
		// (differential case envelope-orig-recipient).
		addr = r.in.Envelope.To
		if r.in.Envelope.OrigTo != "" {
			addr = r.in.Envelope.OrigTo
		}
	case "auth":
		addr = r.in.Envelope.Auth
		if addr == "" {
			return nil
		}
	default:
		return nil
	}
	if addr == "" {
		// The null reverse path is the empty string whatever the
		// address part (RFC 5228 section 5.4).
		return []string{""}
	}
	local, domain := splitAddr(addr)
	if s, ok := t.part.extract(local, domain, r.script.opts.recipientDelimiter()); ok {
		return []string{s}
	}
	return nil
}

// splitAddr splits an envelope address at its last "@".
func splitAddr(a string) (local, domain string) {
	a = strings.TrimSuffix(strings.TrimPrefix(a, "<"), ">")
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[:i], a[i+1:]
	}
	return a, ""
}

// addFlags adds flags to a set, case-insensitively, keeping order.
func addFlags(set, add []string) []string {
	for _, f := range add {
		dup := false
		for _, g := range set {
			if strings.EqualFold(f, g) {
				dup = true
				break
			}
		}
		if !dup {
			set = append(set, f)
		}
	}
	return set
}
