package auth

import "strings"

// PlaintextPassword returns the password a stored hash keeps in clear:
// only the {PLAIN}, {CLEAR} and {CLEARTEXT} schemes (with an optional .B64
// or .HEX encoding suffix) do. Challenge-response logins that need the
// secret itself, such as POP3 APOP (RFC 1939 section 7), work only for
// those accounts, as in Dovecot. Every other hash gives ("", false).
//
// The result is a secret: the caller uses it for one check and drops it.
func PlaintextPassword(hash string) (string, bool) {
	name, data, prefixed, ok := splitScheme(hash)
	if !ok || !prefixed {
		return "", false
	}
	base, suffix, hasSuffix := strings.Cut(name, ".")
	switch strings.ToUpper(base) {
	case "PLAIN", "CLEAR", "CLEARTEXT":
	default:
		return "", false
	}
	enc := encNone
	if hasSuffix {
		switch strings.ToUpper(suffix) {
		case "B64", "BASE64":
			enc = encBase64
		case "HEX":
			enc = encHex
		default:
			return "", false
		}
	}
	raw, err := decodeStored(data, enc, 0, false)
	// VerifyPassword refuses an empty stored value and NUL bytes can never
	// match a password; the same hashes give no plaintext here.
	if err != nil || len(raw) == 0 || strings.IndexByte(string(raw), 0) >= 0 {
		return "", false
	}
	return string(raw), true
}
