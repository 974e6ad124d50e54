package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Errors returned by VerifyPassword, wrapped with detail. None of them ever
// carries the password or the stored hash.
var (
	// ErrUnknownScheme: the {SCHEME} prefix names no scheme we know.
	ErrUnknownScheme = errors.New("unknown password scheme")
	// ErrMalformedHash: the stored hash does not have its scheme's form.
	ErrMalformedHash = errors.New("malformed password hash")
	// ErrUnsupportedHash: a well-formed hash we deliberately do not verify
	// (a crypt(3) method we lack, or a cost above this package's limits).
	ErrUnsupportedHash = errors.New("unsupported password hash")
)

// MaxPasswordLen is the longest password, in bytes, that HashPassword
// accepts and VerifyPassword checks; a longer one never matches. Some schemes
// cost time quadratic in the password's length (SHA-crypt hashes the password
// len(password) times), so a client must not choose it freely.
const MaxPasswordLen = 4096

// costLimits bound the work one verification may do. They are variables only
// so that the fuzz test can lower them; nothing else changes them.
type costLimits struct {
	bcryptCost      int    // bcrypt cost (log2 rounds)
	shaCryptRounds  uint64 // SHA-crypt rounds=
	pbkdf2Rounds    uint64 // PBKDF2 and SCRAM iterations
	argon2MemoryKiB uint64 // argon2 m=
	argon2Passes    uint64 // argon2 t=
}

var limits = costLimits{
	bcryptCost:      16,
	shaCryptRounds:  10_000_000,
	pbkdf2Rounds:    10_000_000,
	argon2MemoryKiB: 1 << 20, // 1 GiB, libsodium's "sensitive" level
	argon2Passes:    32,
}

// encoding is how a scheme's binary value is written in the stored hash.
type encoding int

const (
	encNone encoding = iota // stored as is (text schemes: crypt strings, PLAIN)
	encBase64
	encHex
)

// scheme describes one Dovecot password scheme.
type scheme struct {
	// enc is the default encoding, used when the name has no suffix.
	enc encoding
	// rawLen is the exact decoded length for fixed-size digests, else 0.
	// When it is set and no suffix is given, hex and base64 are told apart
	// by length, as Dovecot does.
	rawLen int
	// verify checks password against the decoded stored value. It returns
	// (false, nil) for a wrong password.
	verify func(raw []byte, password string) (bool, error)
}

// schemes maps upper-case Dovecot scheme names to their implementation.
var schemes map[string]scheme

func init() {
	cryptFamily := scheme{enc: encNone, verify: verifyCryptRaw}
	schemes = map[string]scheme{
		"PLAIN":     {enc: encNone, verify: verifyPlain},
		"CLEAR":     {enc: encNone, verify: verifyPlain},
		"CLEARTEXT": {enc: encNone, verify: verifyPlain},

		// Dovecot hands these to libc's crypt(), which picks the method
		// from the hash itself: {SHA512-CRYPT}$1$... is checked as MD5-crypt.
		"CRYPT":        cryptFamily,
		"DES-CRYPT":    cryptFamily,
		"BLF-CRYPT":    cryptFamily,
		"SHA256-CRYPT": cryptFamily,
		"SHA512-CRYPT": cryptFamily,
		// Dovecot's own MD5-crypt code: only $1$ hashes.
		"MD5-CRYPT": {enc: encNone, verify: verifyMD5CryptRaw},
		// {MD5} is MD5-crypt, or a bare MD5 digest (hex or base64).
		"MD5": {enc: encNone, verify: verifyMD5Scheme},

		"PLAIN-MD5": {enc: encHex, rawLen: 16, verify: digestVerifier(hashMD5)},
		"LDAP-MD5":  {enc: encBase64, rawLen: 16, verify: digestVerifier(hashMD5)},
		"SHA":       {enc: encBase64, rawLen: 20, verify: digestVerifier(hashSHA1)},
		"SHA1":      {enc: encBase64, rawLen: 20, verify: digestVerifier(hashSHA1)},
		"SHA256":    {enc: encBase64, rawLen: 32, verify: digestVerifier(hashSHA256)},
		"SHA512":    {enc: encBase64, rawLen: 64, verify: digestVerifier(hashSHA512)},

		"SMD5":    {enc: encBase64, verify: saltedVerifier("SMD5", hashMD5, 16)},
		"SSHA":    {enc: encBase64, verify: saltedVerifier("SSHA", hashSHA1, 20)},
		"SSHA256": {enc: encBase64, verify: saltedVerifier("SSHA256", hashSHA256, 32)},
		"SSHA512": {enc: encBase64, verify: saltedVerifier("SSHA512", hashSHA512, 64)},

		"CRAM-MD5": {enc: encHex, rawLen: 32, verify: verifyCRAMMD5},
		"HMAC-MD5": {enc: encHex, rawLen: 32, verify: verifyCRAMMD5},

		"PBKDF2":        {enc: encNone, verify: verifyPBKDF2},
		"SCRAM-SHA-1":   {enc: encNone, verify: scramVerifier("SCRAM-SHA-1", hashSHA1)},
		"SCRAM-SHA-256": {enc: encNone, verify: scramVerifier("SCRAM-SHA-256", hashSHA256)},

		"ARGON2":   {enc: encNone, verify: argon2Verifier("")},
		"ARGON2I":  {enc: encNone, verify: argon2Verifier(argon2i)},
		"ARGON2ID": {enc: encNone, verify: argon2Verifier(argon2id)},
	}
}

// VerifyPassword reports whether password matches the stored hash, which is
// in Dovecot's notation: "{SCHEME}data", or a crypt(3) string without prefix.
//
// Schemes (names are case-insensitive): PLAIN, CLEAR, CLEARTEXT; CRYPT,
// DES-CRYPT, BLF-CRYPT, SHA256-CRYPT, SHA512-CRYPT (crypt(3) strings, method
// taken from the string: DES, $1$ MD5-crypt, $5$/$6$ SHA-crypt with rounds=,
// $2a$/$2b$/$2y$ bcrypt, also $argon2i$/$argon2id$); MD5-CRYPT; MD5 (MD5-crypt
// or a bare MD5 digest); PLAIN-MD5, LDAP-MD5, SMD5; SHA, SHA1, SHA256,
// SHA512, SSHA, SSHA256, SSHA512; CRAM-MD5 and HMAC-MD5 (the stored HMAC-MD5
// context); PBKDF2 ($1$salt$rounds$hexkey, HMAC-SHA1); SCRAM-SHA-1,
// SCRAM-SHA-256; ARGON2, ARGON2I, ARGON2ID. The encoding suffixes .B64,
// .BASE64 and .HEX work on every scheme; without one, base64 and hex are
// told apart by length where Dovecot does so (fixed-size digests).
// Not supported: DIGEST-MD5, PLAIN-TRUNC, PLAIN-MD4, LANMAN, NTLM, OTP, SKEY,
// RPA, and the crypt(3) methods yescrypt ($y$), scrypt ($7$), BSDi DES (_)
// and others libxcrypt has.
//
// A wrong password gives (false, nil). An unknown scheme, a malformed hash or
// a hash whose cost exceeds this package's limits gives (false, err); err
// wraps ErrUnknownScheme, ErrMalformedHash or ErrUnsupportedHash and names
// the scheme, never the hash or the password.
//
// A password containing a NUL byte never matches: Dovecot passes passwords as
// C strings, so no stored hash can have been made from one. Neither does a
// password longer than MaxPasswordLen.
func VerifyPassword(hash, password string) (bool, error) {
	if hash == "" {
		return false, fmt.Errorf("%w: empty", ErrMalformedHash)
	}
	name, data, prefixed, ok := splitScheme(hash)
	if !ok {
		return false, fmt.Errorf("%w: unterminated {SCHEME} prefix", ErrMalformedHash)
	}
	if len(password) > MaxPasswordLen || strings.IndexByte(password, 0) >= 0 {
		return false, nil
	}
	if !prefixed {
		// No prefix: default_pass_scheme=CRYPT.
		return verifyCryptString(trimBareMD5Crypt(data), password)
	}

	base, suffix, hasSuffix := strings.Cut(name, ".")
	s, known := schemes[strings.ToUpper(base)]
	if !known {
		return false, fmt.Errorf("%w: %q", ErrUnknownScheme, schemeLabel(base))
	}
	enc := s.enc
	if hasSuffix {
		switch strings.ToUpper(suffix) {
		case "B64", "BASE64":
			enc = encBase64
		case "HEX":
			enc = encHex
		default:
			return false, fmt.Errorf("%w: %q (encoding suffix)", ErrUnknownScheme, schemeLabel(name))
		}
	}
	raw, err := decodeStored(data, enc, s.rawLen, !hasSuffix)
	if err != nil {
		return false, fmt.Errorf("{%s}: %w", schemeLabel(name), err)
	}
	if len(raw) == 0 {
		return false, fmt.Errorf("{%s}: %w: empty", schemeLabel(name), ErrMalformedHash)
	}
	if s.rawLen != 0 && len(raw) != s.rawLen {
		return false, fmt.Errorf("{%s}: %w: %d bytes, want %d", schemeLabel(name), ErrMalformedHash, len(raw), s.rawLen)
	}
	ok, err = s.verify(raw, password)
	if err != nil {
		return false, fmt.Errorf("{%s}: %w", schemeLabel(name), err)
	}
	return ok, nil
}

// splitScheme splits "{NAME}data" into its parts. A hash that does not start
// with '{' has no prefix. ok is false for '{' without '}'.
func splitScheme(hash string) (name, data string, prefixed, ok bool) {
	if !strings.HasPrefix(hash, "{") {
		return "", hash, false, true
	}
	end := strings.IndexByte(hash, '}')
	if end < 0 {
		return "", "", true, false
	}
	return hash[1:end], hash[end+1:], true, true
}

// schemeLabel makes a scheme name safe to show in an error: printable ASCII,
// bounded length.
func schemeLabel(name string) string {
	const max = 32
	var b strings.Builder
	for i := 0; i < len(name) && b.Len() < max; i++ {
		c := name[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		b.WriteByte(c)
	}
	if len(name) > max {
		b.WriteString("...")
	}
	return b.String()
}

// trimBareMD5Crypt mirrors Dovecot's password_get_scheme: a prefix-less
// "$1$salt$hash$anything" is MD5-crypt and only "$1$salt$hash" counts.
func trimBareMD5Crypt(s string) string {
	if !strings.HasPrefix(s, "$1$") {
		return s
	}
	rest := s[3:]
	i := strings.IndexByte(rest, '$')
	if i < 0 {
		return s
	}
	j := strings.IndexByte(rest[i+1:], '$')
	if j < 0 {
		return s
	}
	return s[:3+i+1+j]
}

// decodeStored turns the stored text into the scheme's raw value. With guess
// set (no explicit suffix) and a fixed rawLen, a value exactly twice rawLen
// long is taken as hex if it decodes as hex, else as base64, as Dovecot does.
func decodeStored(data string, enc encoding, rawLen int, guess bool) ([]byte, error) {
	if enc != encNone && rawLen != 0 && guess {
		if len(data) == 2*rawLen {
			if raw, err := hex.DecodeString(data); err == nil {
				return raw, nil
			}
		}
		enc = encBase64
	}
	switch enc {
	case encHex:
		raw, err := hex.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("%w: not valid hex", ErrMalformedHash)
		}
		return raw, nil
	case encBase64:
		raw, err := decodeBase64(data)
		if err != nil {
			return nil, fmt.Errorf("%w: not valid base64", ErrMalformedHash)
		}
		return raw, nil
	default:
		return []byte(data), nil
	}
}

// decodeBase64 decodes standard base64 with or without '=' padding.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	return base64.RawStdEncoding.DecodeString(s)
}

// equalSecret compares two secret strings of possibly different lengths in
// constant time, hiding the length as well: it compares their SHA-256.
func equalSecret(a, b []byte) bool {
	ha := sha256.Sum256(a)
	hb := sha256.Sum256(b)
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

func verifyPlain(raw []byte, password string) (bool, error) {
	return equalSecret(raw, []byte(password)), nil
}
