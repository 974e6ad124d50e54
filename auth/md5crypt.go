package auth

import (
	"crypto/md5"
	"strings"
)

// MD5-crypt ("$1$"), Poul-Henning Kamp's FreeBSD algorithm, as described in
// crypt(5): 1000 rounds of MD5 over password, salt and the previous digest.

const md5CryptMagic = "$1$"

// md5CryptSalt returns the salt of setting ("$1$salt[$...]": at most 8
// characters, cut at '$').
func md5CryptSalt(setting string) string {
	salt := strings.TrimPrefix(setting, md5CryptMagic)
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > 8 {
		salt = salt[:8]
	}
	return salt
}

// md5CryptLen is the length of the string md5Crypt returns for setting.
func md5CryptLen(setting string) int {
	return len(md5CryptMagic) + len(md5CryptSalt(setting)) + 1 + 22
}

// md5Crypt computes the crypt string for password with the salt taken from
// setting.
func md5Crypt(password, setting string) string {
	salt := md5CryptSalt(setting)
	p, s := []byte(password), []byte(salt)

	alt := md5.New()
	alt.Write(p)
	alt.Write(s)
	alt.Write(p)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(p)
	ctx.Write([]byte(md5CryptMagic))
	ctx.Write(s)
	for n := len(p); n > 0; n -= md5.Size {
		ctx.Write(altSum[:min(n, md5.Size)])
	}
	for n := len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(p[:1])
		}
	}
	final := ctx.Sum(nil)

	h := md5.New()
	for i := 0; i < 1000; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(final)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(final)
		} else {
			h.Write(p)
		}
		final = h.Sum(final[:0])
	}

	var out strings.Builder
	out.WriteString(md5CryptMagic)
	out.WriteString(salt)
	out.WriteByte('$')
	for _, g := range [5][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		w := uint32(final[g[0]])<<16 | uint32(final[g[1]])<<8 | uint32(final[g[2]])
		writeCrypt64(&out, w, 4)
	}
	writeCrypt64(&out, uint32(final[11]), 2)
	return out.String()
}
