package storage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Separator is the mailbox hierarchy separator on the wire and in storage.
const Separator = "/"

const maxMailboxName = 512 // bytes; each level at most maxLevelName
const maxLevelName = 255

// isInbox matches INBOX case-insensitively (RFC 9051 section 5.1).
func isInbox(name string) bool { return strings.EqualFold(name, "INBOX") }

// CleanMailboxName validates a mailbox name and returns its stored form:
// INBOX (in any case) becomes "INBOX", as does the first level of its
// children. Names with empty levels, "." or ".." levels, control characters,
// NUL, invalid UTF-8, wildcards or excessive length are refused.
func CleanMailboxName(name string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: mailbox name %q: %s", ErrInvalidName, name, why)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > maxMailboxName:
		return bad(fmt.Sprintf("longer than %d bytes", maxMailboxName))
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case strings.ContainsAny(name, "*%"):
		return bad("contains a wildcard")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return bad("contains a control character")
		}
	}
	levels := strings.Split(name, Separator)
	for _, l := range levels {
		switch {
		case l == "":
			return bad("empty hierarchy level (leading, trailing or doubled " + Separator + ")")
		case l == "." || l == "..":
			return bad("'.' and '..' are not allowed as levels")
		case len(l) > maxLevelName:
			return bad(fmt.Sprintf("a level is longer than %d bytes", maxLevelName))
		case strings.TrimSpace(l) != l:
			return bad("a level starts or ends with white space")
		}
	}
	if isInbox(levels[0]) {
		levels[0] = "INBOX"
	}
	return strings.Join(levels, Separator), nil
}

// parents lists the ancestors of a cleaned name, outermost first.
func parents(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == Separator[0] {
			out = append(out, name[:i])
		}
	}
	return out
}

// MatchPattern matches a mailbox name against an IMAP LIST pattern (RFC 9051
// section 6.3.9): '*' matches anything, '%' anything but the separator.
// INBOX matches case-insensitively.
func MatchPattern(pattern, name string) bool {
	if isInbox(pattern) || strings.HasPrefix(strings.ToUpper(pattern), "INBOX"+Separator) {
		pattern = "INBOX" + pattern[5:]
	}
	return match(pattern, name)
}

// match runs in O(len(p)*len(s)) whatever the wildcards, so a hostile
// pattern cannot make LIST take exponential time.
func match(p, s string) bool {
	// reach[j]: the first i pattern bytes can match the first j name bytes.
	reach := make([]bool, len(s)+1)
	next := make([]bool, len(s)+1)
	reach[0] = true
	for i := 0; i < len(p); i++ {
		clear(next)
		switch c := p[i]; c {
		case '*', '%':
			for j := 0; j <= len(s); j++ {
				if reach[j] || (j > 0 && next[j-1] && (c == '*' || s[j-1] != Separator[0])) {
					next[j] = true
				}
			}
		default:
			for j := 1; j <= len(s); j++ {
				next[j] = reach[j-1] && s[j-1] == c
			}
		}
		reach, next = next, reach
	}
	return reach[len(s)]
}
