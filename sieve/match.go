package sieve

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// comparator is a collation (RFC 4790) a test compares with.
type comparator struct {
	name string
	// fold maps a string to the form compared byte for byte; nil for
	// i;ascii-numeric, which compares numbers.
	fold func(string) string
	// substring says whether :contains and :matches are allowed.
	substring bool
}

var comparators = map[string]*comparator{
	"i;octet":           {name: "i;octet", fold: func(s string) string { return s }, substring: true},
	"i;ascii-casemap":   {name: "i;ascii-casemap", fold: asciiUpper, substring: true},
	"i;unicode-casemap": {name: "i;unicode-casemap", fold: unicodeFold, substring: true},
	"i;ascii-numeric":   {name: "i;ascii-numeric"},
}

// comparatorExt names the extension that makes a comparator available;
// i;octet and i;ascii-casemap are always there (RFC 5228 section 2.7.3),
// and so is i;unicode-casemap, as in Pigeonhole (scripts written for
// Dovecot use it without require; comparators/i-unicode-casemap.svtest).
var comparatorExt = map[string]string{
	"i;ascii-numeric": "comparator-i;ascii-numeric",
}

func asciiUpper(s string) string {
	i := firstLower(s)
	if i < 0 {
		return s
	}
	b := []byte(s)
	upperASCII(b[i:])
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is not written again
}

// firstLower is the index of the first a-z in s, or -1.
func firstLower(s string) int {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return i
		}
	}
	return -1
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// upperASCII maps a-z to A-Z in place, eight bytes at a time (a body that
// rules test with :contains is folded whole). Per byte x < 0x80, adding
// 0x1f sets the high bit when x >= 'a' and adding 0x05 when x > 'z';
// neither sum carries into the next byte. Bytes >= 0x80 stay as they are.
func upperASCII(b []byte) {
	const ones = 0x0101010101010101
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		h := w &^ (0x80 * ones)
		geA := h + (0x80-'a')*ones
		gtZ := h + (0x80-'z'-1)*ones
		lower := geA &^ gtZ &^ w & (0x80 * ones)
		binary.LittleEndian.PutUint64(b[i:], w-lower>>2)
	}
	for ; i < len(b); i++ {
		b[i] = upper(b[i])
	}
}

// unicodeFold maps every rune to one representative of its case-folding
// orbit, so that strings equal under simple case folding compare equal.
func unicodeFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// numeric parses an i;ascii-numeric value: the leading digits, or
// positive infinity (ok false) when there are none (RFC 4790 section 9.1).
func numeric(s string) (digits string, ok bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 {
		return "", false
	}
	d := strings.TrimLeft(s[:i], "0")
	if d == "" {
		d = "0"
	}
	return d, true
}

// compare orders a and b under the comparator.
func (c *comparator) compare(a, b string) int {
	if c.fold == nil {
		da, oka := numeric(a)
		db, okb := numeric(b)
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return 1
		case !okb:
			return -1
		case len(da) != len(db):
			if len(da) < len(db) {
				return -1
			}
			return 1
		}
		return strings.Compare(da, db)
	}
	if c.name == "i;ascii-casemap" {
		return compareASCIIFold(a, b) // as below, without two copies
	}
	return strings.Compare(c.fold(a), c.fold(b))
}

// compareASCIIFold is strings.Compare(asciiUpper(a), asciiUpper(b)).
func compareASCIIFold(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] == b[i] {
			continue
		}
		if ca, cb := upper(a[i]), upper(b[i]); ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

type matchType int

const (
	mIs matchType = iota
	mContains
	mMatches
	mRegex
	mValue
	mCount
)

// matcher is a test's match type, comparator and keys.
type matcher struct {
	typ  matchType
	rel  string // relational operator for :value and :count
	cmp  *comparator
	keys []str
	// res holds the compiled regular expressions of constant keys.
	res []*regexp.Regexp
	// folded holds constant keys for :contains, folded once at compile
	// time instead of at every match.
	folded []containsKey
}

var relations = map[string]bool{"gt": true, "ge": true, "lt": true, "le": true, "eq": true, "ne": true}

// matchTags are the tags every test with a match type takes.
var matchTags = []tagDef{
	{name: "is", group: "match"},
	{name: "contains", group: "match"},
	{name: "matches", group: "match"},
	{name: "regex", ext: "regex", group: "match"},
	{name: "value", ext: "relational", param: aString, group: "match"},
	{name: "count", ext: "relational", param: aString, group: "match"},
	{name: "comparator", param: aString},
}

// withTags joins tag lists.
func withTags(lists ...[]tagDef) []tagDef {
	var out []tagDef
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// matcher builds the matcher of a test from its tags and the key list.
func (c *compiler) matcher(a *args, keyArg *argument) (*matcher, error) {
	m := &matcher{typ: mIs, cmp: comparators["i;ascii-casemap"]}
	if p, ok := a.tags["comparator"]; ok {
		name, err := c.constString(p, 0, "comparator name")
		if err != nil {
			return nil, err
		}
		cmp, ok := comparators[name]
		if !ok || !c.has(comparatorExt[name]) {
			return nil, errorAt(p.pos, "unknown comparator '%s'", name)
		}
		m.cmp = cmp
	}
	switch a.group("match") {
	case "contains":
		m.typ = mContains
	case "matches":
		m.typ = mMatches
	case "regex":
		m.typ = mRegex
	case "value", "count":
		tag := a.group("match")
		m.typ = mValue
		if tag == "count" {
			m.typ = mCount
		}
		rel, err := c.constString(a.tags[tag], 0, "relational operator")
		if err != nil {
			return nil, err
		}
		m.rel = strings.ToLower(rel)
		if !relations[m.rel] {
			return nil, errorAt(a.tags[tag].pos, "invalid relational operator '%s' for :%s", rel, tag)
		}
	}
	if !m.cmp.substring && (m.typ == mContains || m.typ == mMatches || m.typ == mRegex) {
		return nil, errorAt(a.n.pos, "the %s comparator does not support the :%s match type", m.cmp.name, a.group("match"))
	}
	if m.typ == mRegex && m.cmp.name != "i;octet" && m.cmp.name != "i;ascii-casemap" {
		return nil, errorAt(a.n.pos, "the :regex match type only supports the i;octet and i;ascii-casemap comparators")
	}
	keys, err := c.strList(keyArg)
	if err != nil {
		return nil, err
	}
	m.keys = keys
	if m.typ == mContains {
		m.folded = make([]containsKey, len(keys))
		for i, k := range keys {
			if k.parts == nil {
				m.folded[i] = newContainsKey(m.cmp.fold(k.lit))
			}
		}
	}
	if m.typ == mRegex {
		m.res = make([]*regexp.Regexp, len(keys))
		for i, k := range keys {
			if k.parts != nil {
				continue
			}
			re, err := compileRegex(k.lit, m.cmp, c.limits.MaxRegexSize)
			if err != nil {
				return nil, errorAt(keyArg.pos, "%v", err)
			}
			m.res[i] = re
		}
	}
	return m, nil
}

// compileRegex compiles a POSIX extended regular expression as RE2
// understands it (draft-ietf-sieve-regex; Go's syntax is a superset of
// ERE for everything but back references).
func compileRegex(expr string, cmp *comparator, maxSize int) (*regexp.Regexp, error) {
	if len(expr) > maxSize {
		return nil, errorAt(Pos{}, "regular expression is too large (%d bytes, limit %d)", len(expr), maxSize)
	}
	if cmp.name == "i;ascii-casemap" {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, errorAt(Pos{}, "invalid regular expression '%s': %v", expr, err)
	}
	return re, nil
}

// match reports whether any of values matches any key; for :count, the
// number of values is compared. With the variables extension a
// successful :matches or :regex sets the match variables.
func (m *matcher) match(r *runtime, values []string) (bool, error) {
	if m.typ == mCount {
		n := strconv.Itoa(len(values))
		for _, k := range m.keys {
			if relate(m.cmp.compare(n, r.expand(k)), m.rel) {
				return true, nil
			}
		}
		return false, nil
	}
	// i;ascii-casemap :contains compares constant keys with the value as
	// it is (caseless); the other comparators fold the value once for all
	// keys (and, for long values such as a body that many rules test, once
	// per run).
	caseless := m.typ == mContains && m.cmp.name == "i;ascii-casemap"
	for _, v := range values {
		raw := v
		foldRaw := func() string { f, _ := r.fold(m.cmp, raw); return f }
		var smp *byteSample
		switch {
		case caseless:
			smp = r.caselessSample(v)
		case m.typ == mContains:
			v, smp = r.fold(m.cmp, v)
		}
		for i, k := range m.keys {
			if err := r.step(); err != nil {
				return false, err
			}
			if m.typ == mContains && k.parts == nil {
				if m.folded[i].in(v, smp, caseless, foldRaw) {
					return true, nil
				}
				continue
			}
			if caseless {
				v = foldRaw() // m.one compares folded values
			}
			ok, err := m.one(r, v, i, r.expand(k))
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

// foldCacheMin is the length from which folded values are kept for the
// rest of the run.
const foldCacheMin = 1024

// fold returns cmp's folded form of v, cached per run for long values,
// with a sample of the folded bytes (nil for short values).
// The cache is keyed by where v's bytes are, not by its content: a body
// part that many rules test is one string, and hashing and comparing
// kilobytes at every lookup would cost about as much as folding. Equal
// address and length mean equal bytes (strings are immutable, and the
// entry keeps v alive so that its memory is not reused).
func (r *runtime) fold(cmp *comparator, v string) (string, *byteSample) {
	if len(v) < foldCacheMin {
		return cmp.fold(v), nil
	}
	key := foldKey{cmp, unsafe.StringData(v), len(v)}
	if e, ok := r.folded[key]; ok {
		return e.folded, e.sample
	}
	f := r.foldLong(cmp, v)
	smp := newByteSample(f)
	if r.folded == nil {
		r.folded = map[foldKey]foldEntry{}
	}
	r.folded[key] = foldEntry{v, f, smp}
	return f, smp
}

// foldLong folds a long value; i;ascii-casemap folds into a pooled buffer
// that finish returns: a folded value only ever serves :contains within
// the run (match), so nothing holds it after.
func (r *runtime) foldLong(cmp *comparator, v string) string {
	if cmp.name != "i;ascii-casemap" {
		return cmp.fold(v)
	}
	i := firstLower(v)
	if i < 0 {
		return v
	}
	b := r.pooledBuf(len(v))
	copy(b, v)
	upperASCII(b[i:])
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// maxPooledBuf bounds the buffers of pooledBuf, so that the pool does not
// keep large ones.
const maxPooledBuf = 64 << 10

var runBufs = sync.Pool{New: func() any { return new([]byte) }}

// pooledBuf returns n bytes that stay the run's until finish returns them
// to a pool (above maxPooledBuf they are the garbage collector's). What
// lives in them must not outlive the run: folded values (they serve
// :contains) and part contents (they serve tests; extracttext copies).
func (r *runtime) pooledBuf(n int) []byte {
	if n > maxPooledBuf {
		return make([]byte, n)
	}
	bp := runBufs.Get().(*[]byte)
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	r.bufs = append(r.bufs, bp)
	return (*bp)[:n]
}

// caselessSample samples a long value's bytes, upper and lower case
// counted as one, once per run (nil for a short value).
func (r *runtime) caselessSample(v string) *byteSample {
	if len(v) < foldCacheMin {
		return nil
	}
	key := foldKey{nil, unsafe.StringData(v), len(v)}
	if e, ok := r.folded[key]; ok {
		return e.sample
	}
	smp := newCaselessSample(v)
	if r.folded == nil {
		r.folded = map[foldKey]foldEntry{}
	}
	r.folded[key] = foldEntry{src: v, sample: smp}
	return smp
}

// releaseBufs returns the run's pooled buffers, and forgets the values
// that live in them.
func (r *runtime) releaseBufs() {
	r.folded = nil
	delete(r.ext, "mimepart") // caches part contents
	for _, bp := range r.bufs {
		runBufs.Put(bp)
	}
	r.bufs = nil
}

type foldKey struct {
	cmp  *comparator
	data *byte
	n    int
}

// foldEntry is a long value, folded, with a sample of its bytes for
// :contains (contains.go).
type foldEntry struct {
	src, folded string
	sample      *byteSample
}

// matchEach matches the values of n sources (header names, envelope
// parts) one source after the other, stopping at the first match; for
// :count the values of all sources are counted together (RFC 5231
// section 4.2).
func (m *matcher) matchEach(r *runtime, n int, values func(i int) ([]string, error)) (bool, error) {
	var all []string
	for i := 0; i < n; i++ {
		vals, err := values(i)
		if err != nil {
			return false, err
		}
		if m.typ == mCount {
			all = append(all, vals...)
			continue
		}
		if ok, err := m.match(r, vals); ok || err != nil {
			return ok, err
		}
	}
	if m.typ == mCount {
		return m.match(r, all)
	}
	return false, nil
}

func relate(c int, rel string) bool {
	switch rel {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	}
	return false
}

// one matches one value against key i (expanded to key).
func (m *matcher) one(r *runtime, v string, i int, key string) (bool, error) {
	switch m.typ {
	case mIs:
		return m.cmp.compare(v, key) == 0, nil
	case mValue:
		return relate(m.cmp.compare(v, key), m.rel), nil
	case mContains: // v is folded already (match)
		return strings.Contains(v, m.cmp.fold(key)), nil
	case mMatches:
		caps, ok := wildcardMatch(v, key, m.cmp)
		if ok {
			r.setMatch(caps)
		}
		return ok, nil
	case mRegex:
		re := m.res[i]
		if re == nil {
			var err error
			if re, err = r.regex(key, m.cmp); err != nil {
				// A key built at run time that is no regular expression
				// matches nothing; the script goes on, as in Pigeonhole.
				return false, nil
			}
		}
		// Asking only whether it matches costs a fraction of finding the
		// groups (Go's engine carries them through every state), and most
		// keys do not match: find the groups only for a match that sets
		// match variables. One match can take long: check the CPU limit
		// after each, not only every 1024 steps.
		ok := re.MatchString(v)
		if err := r.checkDeadline(); err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
		if r.script.requires["variables"] {
			r.setMatch(re.FindStringSubmatch(v))
		}
		return true, nil
	}
	return false, nil
}

// wildcardMatch matches v against a :matches pattern ("*" any run, "?"
// one character, "\" quotes the next). Wildcards match as little as
// possible, left to right (RFC 5229 section 3.2); the captures are
// ${0} (all of v) and one per wildcard.
func wildcardMatch(v, pattern string, cmp *comparator) ([]string, bool) {
	// Work on runes: "?" is one character, not one byte. i;octet
	// compares bytes; invalid UTF-8 decodes to one rune per byte.
	type unit struct {
		r    rune
		wild byte // '*', '?' or 0
	}
	var pat []unit
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '*' || c == '?' {
			pat = append(pat, unit{wild: c})
			i++
			continue
		}
		if c == '\\' && i+1 < len(pattern) {
			i++
		}
		r, n := utf8.DecodeRuneInString(pattern[i:])
		pat = append(pat, unit{r: r})
		i += n
	}
	var vr []rune
	var off []int
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRuneInString(v[i:])
		vr = append(vr, r)
		off = append(off, i)
		i += n
	}
	off = append(off, len(v))
	eq := runeEqual(cmp)
	// failed remembers states (pattern index, value index) known not to
	// match: captures do not change whether the rest matches, so each
	// state is tried once. starFrom[pi] is the least value index from
	// which the star at pi is known to fail; a star that fails from si
	// fails from any later index too. Together: O(len(pattern)*len(v)).
	width := len(vr) + 1
	failed := make([]uint64, (len(pat)*width+63)/64+1)
	isFailed := func(pi, si int) bool { k := pi*width + si; return failed[k/64]&(1<<(k%64)) != 0 }
	setFailed := func(pi, si int) { k := pi*width + si; failed[k/64] |= 1 << (k % 64) }
	starFrom := make([]int, len(pat))
	for i := range starFrom {
		starFrom[i] = len(vr) + 1
	}
	var caps [][2]int
	var try func(pi, si int) bool
	try = func(pi, si int) bool {
		for pi < len(pat) && pat[pi].wild == 0 {
			if si >= len(vr) || !eq(pat[pi].r, vr[si]) {
				return false
			}
			pi++
			si++
		}
		if pi == len(pat) {
			return si == len(vr)
		}
		if isFailed(pi, si) {
			return false
		}
		if pat[pi].wild == '?' {
			if si < len(vr) {
				caps = append(caps, [2]int{si, si + 1})
				if try(pi+1, si+1) {
					return true
				}
				caps = caps[:len(caps)-1]
			}
			setFailed(pi, si)
			return false
		}
		if si >= starFrom[pi] {
			return false
		}
		for end := si; end <= len(vr); end++ {
			caps = append(caps, [2]int{si, end})
			if try(pi+1, end) {
				return true
			}
			caps = caps[:len(caps)-1]
		}
		starFrom[pi] = si
		return false
	}
	if !try(0, 0) {
		return nil, false
	}
	out := make([]string, 0, len(caps)+1)
	out = append(out, v)
	for _, c := range caps {
		out = append(out, v[off[c[0]]:off[c[1]]])
	}
	return out, true
}

func runeEqual(cmp *comparator) func(a, b rune) bool {
	switch cmp.name {
	case "i;ascii-casemap":
		return func(a, b rune) bool {
			if a == b {
				return true
			}
			if a < 128 && b < 128 {
				return bytes.EqualFold([]byte{byte(a)}, []byte{byte(b)})
			}
			return false
		}
	case "i;unicode-casemap":
		return func(a, b rune) bool { return a == b || unicodeFold(string(a)) == unicodeFold(string(b)) }
	}
	return func(a, b rune) bool { return a == b }
}
