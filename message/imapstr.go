package message

import "strconv"

// IMAP string syntax (RFC 9051 section 4.3), chosen as Dovecot chooses:
// a quoted string when possible, a literal when the string has CR, LF,
// NUL or 8-bit bytes, or more than four characters to escape. 8-bit bytes
// (UTF-8 from RFC 6532 headers, or raw legacy charsets) go out as they are,
// inside a literal, as Dovecot sends them; IMAP has no way to say which
// charset they are in. A NUL, which IMAP forbids, is sent as 0x80, as
// Dovecot does.

// appendNString appends s as an IMAP string, or NIL when !ok.
func appendNString(dst []byte, s string, ok bool) []byte {
	if !ok {
		return append(dst, "NIL"...)
	}
	return appendString(dst, s)
}

func appendString(dst []byte, s string) []byte {
	escapes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			escapes++
			if escapes > 4 {
				return appendLiteral(dst, s)
			}
		case c == '\r' || c == '\n' || c == 0 || c >= 0x80:
			return appendLiteral(dst, s)
		}
	}
	dst = append(dst, '"')
	if escapes == 0 {
		dst = append(dst, s...)
	} else {
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, s[i])
		}
	}
	return append(dst, '"')
}

func appendLiteral(dst []byte, s string) []byte {
	dst = append(dst, '{')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, "}\r\n"...)
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0x80)
		} else {
			dst = append(dst, s[i])
		}
	}
	return dst
}

// appendHuman appends a string meant for people (subject, display name)
// as Dovecot's imap_append_string_for_humans does: white space (SP, TAB,
// CR, LF) runs become one space, leading and trailing white space goes,
// NUL becomes 0x80. A string that needed any change, or that has a '"',
// '\' or 8-bit byte, is sent as a literal; an all-blank one as "".
func appendHuman(dst []byte, s string) []byte {
	modify := false
	remove := 0
	lastWS, prefixWS := true, true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			lastWS = false
			modify = true
		case '\r', '\n', '\t', ' ':
			if c != ' ' {
				modify = true
			}
			if lastWS {
				modify = true
				remove++
			}
			lastWS = true
		case '"', '\\':
			modify = true
			lastWS = false
		default:
			if c >= 0x80 {
				modify = true
			}
			lastWS = false
		}
		if !lastWS {
			prefixWS = false
		}
	}
	if lastWS && len(s) > 0 && !prefixWS {
		modify = true
		remove++
	}
	if !modify {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	if remove == len(s) {
		return append(dst, `""`...)
	}
	dst = append(dst, '{')
	dst = strconv.AppendInt(dst, int64(len(s)-remove), 10)
	dst = append(dst, "}\r\n"...)
	start := len(dst)
	lastWS = true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			dst = append(dst, 0x80)
			lastWS = false
		case '\r', '\n', '\t', ' ':
			if !lastWS {
				dst = append(dst, ' ')
			}
			lastWS = true
		default:
			dst = append(dst, c)
			lastWS = false
		}
	}
	if lastWS && len(dst) > start {
		dst = dst[:len(dst)-1]
	}
	return dst
}
