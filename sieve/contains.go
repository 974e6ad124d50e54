package sieve

import "strings"

// :contains against a long value (a body part that many rules search) is
// most of what a script with body rules costs. strings.Index jumps to each
// occurrence of the key's first byte and compares from there; for a key
// that starts with a common letter that means a stop every few dozen
// bytes. containsKey jumps on the byte of the key that is rarest in mail
// text instead (a digit, punctuation or an uncommon letter), which the
// value holds far less often, and compares around it.

// byteOrder lists bytes from the most to the least common in mail text,
// letters by their English frequency (upper and lower case alike, since
// i;ascii-casemap compares upper case). Bytes not listed are rarer than
// all of these.
const byteOrder = " eEtTaAoOiInNsSrRhHlLdD\r\ncCuUmMfFpPgGwWyY.,bBvV0123456789kK-'\"/:=;()!?_@<>xXjJqQzZ"

// byteRarity is 0 for the most common byte and grows with rarity.
var byteRarity = func() (t [256]uint8) {
	for i := range t {
		t[i] = 255
	}
	for i := 0; i < len(byteOrder); i++ {
		t[byteOrder[i]] = uint8(i)
	}
	return t
}()

// containsKey is a key for :contains, folded, with the offset of its
// rarest byte.
type containsKey struct {
	s    string
	rare int
}

func newContainsKey(folded string) containsKey {
	k := containsKey{s: folded}
	for i := 1; i < len(folded); i++ {
		if byteRarity[folded[i]] > byteRarity[folded[k.rare]] {
			k.rare = i
		}
	}
	return k
}

// in reports whether v contains the key. With caseless (i;ascii-casemap:
// the key is upper case) v is as received: the rare byte is looked for in
// either case and compared caselessly, so v needs no folded copy; folded
// gives it, for the hand-over to strings.Index. Without, v is folded
// already and folded returns it.
//
// smp, when not nil, counts the bytes of a sample of v: the key's byte
// that is rarest there is the one to jump on (the table's guess can be
// wrong for a given text: no spaces in base64, digits everywhere in a
// table of figures).
func (k containsKey) in(v string, smp *byteSample, caseless bool, folded func() string) bool {
	n := len(k.s)
	if n == 0 {
		return true
	}
	rare := k.pick(smp)
	c := k.s[rare]
	lc := c
	if caseless {
		lc = lower(c)
	}
	// The rare byte of a match at i is at i+rare: look for it in
	// v[rare : last+1] only. nc and nl are where the next c and the next
	// lc are (end: none); each is looked for again only once passed, so
	// that a case absent from v is not searched for at every stop.
	last := len(v) - n + rare
	end := last + 1
	next := func(from int, b byte) int {
		if j := strings.IndexByte(v[from:end], b); j >= 0 {
			return from + j
		}
		return end
	}
	nc, nl := -1, -1
	fails := 0
	for at := rare; at <= last; {
		if nc < at {
			nc = next(at, c)
		}
		if nl < at {
			nl = nc
			if lc != c {
				nl = next(at, lc)
			}
		}
		if at = min(nc, nl); at == end {
			return false
		}
		w := v[at-rare : at-rare+n]
		if w == k.s || caseless && compareASCIIFold(w, k.s) == 0 {
			return true
		}
		at++
		// When the "rare" byte is common in this value (more than one
		// in 64 bytes), hand over to strings.Index: jumping on the first
		// byte is then no worse, and it bounds its own work. Folding
		// keeps every byte where it is.
		if fails++; fails > 4+at/64 {
			return strings.Contains(folded()[at-rare:], k.s)
		}
	}
	return false
}

// pick returns the offset of the key's byte to jump on: the rarest in
// the sample, else by the table.
func (k containsKey) pick(smp *byteSample) int {
	rare := k.rare
	if smp != nil {
		for i := 0; i < len(k.s); i++ {
			c, r := k.s[i], k.s[rare]
			if smp[c] < smp[r] || smp[c] == smp[r] && byteRarity[c] > byteRarity[r] {
				rare = i
			}
		}
	}
	return rare
}

// byteSample counts the bytes of four windows spread over a long value.
type byteSample [256]uint16

const sampleWindow = 256

func newByteSample(v string) *byteSample {
	var s byteSample
	for w := 0; w < 4; w++ {
		start := len(v) * w / 4
		for _, c := range []byte(v[start:min(start+sampleWindow, len(v))]) {
			s[c]++
		}
	}
	return &s
}

// newCaselessSample is newByteSample counting a-z as A-Z.
func newCaselessSample(v string) *byteSample {
	s := newByteSample(v)
	for c := byte('a'); c <= 'z'; c++ {
		s[upper(c)] += s[c]
		s[c] = 0
	}
	return s
}
