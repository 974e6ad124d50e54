package lmtp

import (
	"strings"
	"unicode/utf8"
)

// maxPath bounds an envelope address. RFC 5321 section 4.5.3.1.3 allows
// 256 octets for a path; forwarding schemes (SRS, BATV, VERP) make longer
// ones, so twice that is accepted.
const maxPath = 512

// maxHelo bounds the LHLO name kept in the Received header (the length of
// a domain name, RFC 5321 section 4.5.3.1.2).
const maxHelo = 255

// validAddress reports whether an envelope address, as go-smtp parsed it
// (quoted local parts unquoted), can be stored in a trace header and
// looked up: valid UTF-8 (SMTPUTF8, RFC 6531), no control characters, not
// too long, one local part and one domain.
func validAddress(addr string) bool {
	if addr == "" || len(addr) > maxPath || !utf8.ValidString(addr) {
		return false
	}
	for _, r := range addr {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && at < len(addr)-1
}

// splitAddress splits an address at its last '@'.
func splitAddress(addr string) (local, domain string) {
	at := strings.LastIndexByte(addr, '@')
	return addr[:at], addr[at+1:]
}

// splitDetail splits a local part at the first of the delimiter
// characters: "bob+lists" gives "bob", "lists". A local part that starts
// with a delimiter has no detail (there would be no user).
func splitDetail(local, delimiters string) (user, detail string, ok bool) {
	if delimiters == "" {
		return local, "", false
	}
	i := strings.IndexAny(local, delimiters)
	if i <= 0 {
		return local, "", false
	}
	_, n := utf8.DecodeRuneInString(local[i:])
	return local[:i], local[i+n:], true
}

// isAtext reports an RFC 5322 atext character, UTF-8 included (RFC 6532
// section 3.2).
func isAtext(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r) || r >= 0x80
}

// isDotAtom reports whether s can be written without quotes (RFC 5322
// section 3.2.3).
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r != '.' && !isAtext(r) {
			return false
		}
	}
	return true
}

// formatAddress writes an address for a header: the local part quoted
// when it is not a dot-atom (RFC 5321 section 4.1.2), since go-smtp hands
// it over unquoted.
func formatAddress(addr string) string {
	if addr == "" {
		return ""
	}
	local, domain := splitAddress(addr)
	if isDotAtom(local) {
		return addr
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range local {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteString(`"@`)
	b.WriteString(domain)
	return b.String()
}

// cleanHelo makes the LHLO argument safe for a Received header: a domain
// or an address literal keeps its characters; anything else is dropped.
func cleanHelo(helo string) string {
	var b strings.Builder
	for i := 0; i < len(helo) && b.Len() < maxHelo; i++ {
		c := helo[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}
