package auth

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt ($5$ SHA-256, $6$ SHA-512), written from Ulrich Drepper's
// specification "Unix crypt using SHA-256 and SHA-512" (SHA-crypt.txt).

const (
	shaCryptDefaultRounds = 5000
	shaCryptMinRounds     = 1000
	shaCryptMaxRounds     = 999_999_999
	shaCryptMaxSalt       = 16
)

type shaCryptVariant struct {
	name   string
	prefix string
	hash   func() hash.Hash
	// order lists the digest bytes in the order the specification encodes
	// them: groups of three bytes (b2, b1, b0) make four characters; the
	// final group is shorter (see tail).
	order []int
	// tail: number of characters the last group (the bytes in order after
	// the full groups) makes.
	tail int
	// chars is the length of the encoded digest.
	chars int
}

var sha256Crypt = shaCryptVariant{
	name: "SHA256-crypt", prefix: "$5$", hash: sha256.New,
	order: []int{
		0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14,
		15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29,
		31, 30, // final group: (0, 31, 30), 3 characters
	},
	tail:  3,
	chars: 43,
}

var sha512Crypt = shaCryptVariant{
	name: "SHA512-crypt", prefix: "$6$", hash: sha512.New,
	order: []int{
		0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4,
		47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51,
		31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35,
		15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19,
		62, 20, 41,
		63, // final group: (0, 0, 63), 2 characters
	},
	tail:  2,
	chars: 86,
}

type shaCryptSetting struct {
	rounds uint64
	custom bool // "rounds=" was given, so it is written back
	salt   string
}

// parseSHACryptSetting reads "$5$[rounds=N$]salt[$...]". The rounds value is
// returned as written (not clamped); the salt is cut at '$' and at 16
// characters, as crypt(3) does.
func parseSHACryptSetting(s string, v shaCryptVariant) (shaCryptSetting, error) {
	st := shaCryptSetting{rounds: shaCryptDefaultRounds}
	rest, ok := strings.CutPrefix(s, v.prefix)
	if !ok {
		return st, fmt.Errorf("%w: %s prefix", ErrMalformedHash, v.name)
	}
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, found := strings.Cut(r, "$")
		n, err := parseCount(num)
		if !found || err != nil {
			return st, fmt.Errorf("%w: %s rounds", ErrMalformedHash, v.name)
		}
		st.rounds, st.custom, rest = n, true, after
	}
	if i := strings.IndexByte(rest, '$'); i >= 0 {
		rest = rest[:i]
	}
	if len(rest) > shaCryptMaxSalt {
		rest = rest[:shaCryptMaxSalt]
	}
	st.salt = rest
	return st, nil
}

// encodedLen is the length of the string shaCryptWith returns for st.
func (st shaCryptSetting) encodedLen(v shaCryptVariant) int {
	n := len(v.prefix) + len(st.salt) + 1 + v.chars
	if st.custom {
		n += len("rounds=$") + len(strconv.FormatUint(st.rounds, 10))
	}
	return n
}

// shaCryptWith computes the full crypt string for a parsed setting whose
// rounds are within [shaCryptMinRounds, shaCryptMaxRounds].
func shaCryptWith(password string, st shaCryptSetting, v shaCryptVariant) string {
	p := []byte(password)
	s := []byte(st.salt)

	// Digest B = H(P S P).
	h := v.hash()
	h.Write(p)
	h.Write(s)
	h.Write(p)
	b := h.Sum(nil)
	size := len(b)

	// Digest A = H(P S, B repeated over len(P) bytes, then B or P for
	// each bit of len(P), lowest first).
	h = v.hash()
	h.Write(p)
	h.Write(s)
	n := len(p)
	for ; n > size; n -= size {
		h.Write(b)
	}
	h.Write(b[:n])
	for n = len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(p)
		}
	}
	a := h.Sum(nil)

	// P sequence: H(P repeated len(P) times), stretched to len(P) bytes.
	h = v.hash()
	for range len(p) {
		h.Write(p)
	}
	pSeq := stretch(h.Sum(nil), len(p))

	// S sequence: H(S repeated 16+A[0] times), stretched to len(S) bytes.
	h = v.hash()
	for range 16 + int(a[0]) {
		h.Write(s)
	}
	sSeq := stretch(h.Sum(nil), len(s))

	c := a
	for i := uint64(0); i < st.rounds; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(pSeq)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sSeq)
		}
		if i%7 != 0 {
			h.Write(pSeq)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pSeq)
		}
		c = h.Sum(c[:0])
	}

	var out strings.Builder
	out.WriteString(v.prefix)
	if st.custom {
		out.WriteString("rounds=")
		out.WriteString(strconv.FormatUint(st.rounds, 10))
		out.WriteByte('$')
	}
	out.WriteString(st.salt)
	out.WriteByte('$')
	full := len(v.order) / 3 * 3
	for i := 0; i < full; i += 3 {
		w := uint32(c[v.order[i]])<<16 | uint32(c[v.order[i+1]])<<8 | uint32(c[v.order[i+2]])
		writeCrypt64(&out, w, 4)
	}
	var w uint32
	for _, idx := range v.order[full:] {
		w = w<<8 | uint32(c[idx])
	}
	writeCrypt64(&out, w, v.tail)
	return out.String()
}

// stretch repeats digest to exactly n bytes.
func stretch(digest []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, digest[:min(len(digest), n-len(out))]...)
	}
	return out
}

// writeCrypt64 writes the low 6*n bits of w as n crypt alphabet characters,
// least significant six bits first.
func writeCrypt64(b *strings.Builder, w uint32, n int) {
	for range n {
		b.WriteByte(cryptAlphabet[w&0x3f])
		w >>= 6
	}
}
