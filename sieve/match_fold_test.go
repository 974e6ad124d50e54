package sieve

import (
	"strings"
	"testing"
)

// TestASCIIUpper checks the eight-bytes-at-a-time fold against a byte at
// a time, for every byte value at every position of a word.
func TestASCIIUpper(t *testing.T) {
	slow := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if c >= 'a' && c <= 'z' {
				b[i] = c - 32
			}
		}
		return string(b)
	}
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 19; pos++ {
			b := []byte("abc-XYZ éz`{@[0189zza")[:19]
			b[pos] = byte(c)
			s := string(b)
			if got, want := asciiUpper(s), slow(s); got != want {
				t.Fatalf("asciiUpper(%q) = %q, want %q", s, got, want)
			}
		}
	}
	long := strings.Repeat("Mixed Case text, ÄÖÜ äöü 0123 {}`@ ", 50)
	if got, want := asciiUpper(long), slow(long); got != want {
		t.Fatalf("long: got %q", got)
	}
}

// FuzzASCIIUpper compares the fold with a byte-at-a-time one.
func FuzzASCIIUpper(f *testing.F) {
	f.Add("Hello, World! ÿ")
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		for i, c := range b {
			if c >= 'a' && c <= 'z' {
				b[i] = c - 32
			}
		}
		if got := asciiUpper(s); got != string(b) {
			t.Fatalf("asciiUpper(%q) = %q, want %q", s, got, b)
		}
	})
}

// FuzzCompareASCIIFold: the comparison without copies agrees with
// comparing the folded copies.
func FuzzCompareASCIIFold(f *testing.F) {
	f.Add("Example.ORG", "example.org")
	f.Add("a", "B")
	f.Add("[", "a")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := compareASCIIFold(a, b), strings.Compare(asciiUpper(a), asciiUpper(b)); got != want {
			t.Fatalf("compareASCIIFold(%q, %q) = %d, want %d", a, b, got, want)
		}
	})
}
