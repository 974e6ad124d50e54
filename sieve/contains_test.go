package sieve

import (
	"strings"
	"testing"
)

// TestContainsKey compares the rare-byte search with strings.Contains on
// values long enough to take it, with the match at every kind of place
// and with the rare byte common in the value.
func TestContainsKey(t *testing.T) {
	line := "0123456789 ABCDEFGHIJ KLMNOPQRSTUVWXYZ 0123456789 ABCDEFGH\r\n"
	text := strings.Repeat(line, 40)
	dashes := strings.Repeat("-A-B-C-", 100)
	cases := []struct{ v, key string }{
		{text, "UNSUBSCRIBE-TOKEN-0"},
		{text, "LOTTERY WINNER 0"},
		{text, "KLMNOP"},
		{text, "89 AB"},
		{text, "\r\n01"},
		{text + "UNSUBSCRIBE-TOKEN-0", "UNSUBSCRIBE-TOKEN-0"},
		{"UNSUBSCRIBE-TOKEN-0" + text, "UNSUBSCRIBE-TOKEN-0"},
		{text[:1000] + "X-Y" + text[1000:], "X-Y"},
		{dashes, "-C--A-"},
		{dashes, "-Q-"},
		{dashes + "-Q-", "-Q-"},
		{text, "Z"},
		{text, ""},
		{"short -x-", "-x-"},
	}
	for _, c := range cases {
		k := newContainsKey(c.key)
		want := strings.Contains(c.v, c.key)
		if got := k.in(c.v, nil, false, func() string { return c.v }); got != want {
			t.Errorf("%q in %d bytes: got %v, want %v", c.key, len(c.v), got, want)
		}
		if got := k.in(c.v, newByteSample(c.v), false, func() string { return c.v }); got != want {
			t.Errorf("%q in %d bytes, sampled: got %v, want %v", c.key, len(c.v), got, want)
		}
		checkCaseless(t, c.v, c.key)
		checkCaseless(t, strings.ToLower(c.v), c.key)
	}
}

// FuzzContainsKey: the rare-byte search agrees with strings.Contains.
func FuzzContainsKey(f *testing.F) {
	f.Add(strings.Repeat("abc-def ", 64), "c-d", 100)
	f.Add(strings.Repeat("x", 300), "xxy", 5)
	f.Fuzz(func(t *testing.T, v, key string, at int) {
		if at >= 0 && at <= len(v) && len(key) < 64 {
			v = v[:at] + key + v[at:] // a match somewhere, sometimes
		}
		for len(v) < 300 {
			v += v + "."
		}
		k := newContainsKey(key)
		want := strings.Contains(v, key)
		if got := k.in(v, nil, false, func() string { return v }); got != want {
			t.Fatalf("%q in %q: got %v, want %v", key, v, got, want)
		}
		if got := k.in(v, newByteSample(v), false, func() string { return v }); got != want {
			t.Fatalf("%q in %q, sampled: got %v, want %v", key, v, got, want)
		}
		checkCaseless(t, v, key)
	})
}

// checkCaseless compares the caseless search of key in v with searching
// the folded key in folded v.
func checkCaseless(t *testing.T, v, key string) {
	t.Helper()
	k := newContainsKey(asciiUpper(key))
	want := strings.Contains(asciiUpper(v), asciiUpper(key))
	for _, smp := range []*byteSample{nil, newCaselessSample(v)} {
		if got := k.in(v, smp, true, func() string { return asciiUpper(v) }); got != want {
			t.Fatalf("caseless %q in %q (sampled %v): got %v, want %v", key, v, smp != nil, got, want)
		}
	}
}
