package pop3

import (
	"strconv"
	"strings"
)

// maxKeyword is the longest keyword looked up: RFC 1939 section 3 keywords
// are three or four characters; anything longer is an unknown command.
const maxKeyword = 4

// parseLine splits a command line, given without its line ending, into its
// keyword, in upper case (keywords are case-insensitive, RFC 1939 section
// 3), and the text after the single space that follows it. The text is
// kept as it is: PASS takes the rest of the line as the password, spaces
// included (RFC 1939 section 7).
func parseLine(line []byte) (keyword, args string, err error) {
	if len(line) == 0 {
		return "", "", errf("", "Empty command")
	}
	kw, rest, _ := strings.Cut(string(line), " ")
	if kw == "" {
		return "", "", errf("", "Command must not start with a space")
	}
	if len(kw) > maxKeyword {
		return "", "", errf("", "Unknown command")
	}
	for i := 0; i < len(kw); i++ {
		if kw[i] < 0x21 || kw[i] > 0x7e {
			return "", "", errf("", "Unknown command")
		}
	}
	return strings.ToUpper(kw), rest, nil
}

// fields splits command arguments on spaces. RFC 1939 separates them by a
// single space; runs of spaces are forgiven.
func fields(args string) []string {
	return strings.FieldsFunc(args, func(r rune) bool { return r == ' ' })
}

// parseNumber reads a decimal argument: ASCII digits only, so that "-1",
// "+1" and "1.5" are refused, and small enough for a uint64.
func parseNumber(s string) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
