package message

import (
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// setSortFields fills the fields SORT and THREAD compare from the
// top-level header.
func (m *Parsed) setSortFields(hdr []byte) {
	e := &m.Envelope
	if e.Has&HasSubject != 0 {
		m.Subject = decodeText(e.Subject)
		m.BaseSubject = BaseSubject(m.Subject)
	}
	m.From, m.To, m.Cc = sortMailbox(e.From), sortMailbox(e.To), sortMailbox(e.Cc)
	m.FromDisplay, m.ToDisplay = sortDisplay(e.From), sortDisplay(e.To)
	if e.Has&HasDate != 0 {
		m.Date = parseDate(e.Date)
	}
	if ids := msgIDs(e.MessageID); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	if ids := msgIDs(e.InReplyTo); len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	seen := false
	eachField(hdr, func(name, value []byte) {
		if !seen && isField(name, "references") {
			seen = true
			m.References = msgIDs(noLF(value))
		}
	})
}

// decodeText decodes RFC 2047 encoded words (unknown charsets and broken
// words are left as they are), unfolds, and returns valid UTF-8.
func decodeText(s string) string {
	s = noLF([]byte(s))
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = d
		}
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// BaseSubject returns the RFC 5256 section 2.1 base subject of a subject
// already decoded to UTF-8 (Parsed.Subject). Case is kept: SORT and THREAD
// compare with i;unicode-casemap.
func BaseSubject(s string) string {
	// (1) tabs and continuations to space, runs of spaces to one.
	s = collapseSpace(s)
	for {
		// (2) remove trailing "(fwd)" and white space.
		for {
			t := strings.TrimRight(s, " ")
			if n := len(t); n >= 5 && strings.EqualFold(t[n-5:], "(fwd)") {
				s = t[:n-5]
				continue
			}
			s = t
			break
		}
		// (3), (4), repeated (5): leaders and blobs.
		for {
			changed := false
			if t := strings.TrimLeft(s, " "); t != s {
				s, changed = t, true
			}
			if n := refwdLeader(s); n > 0 {
				s, changed = s[n:], true
			}
			if n := blob(s); n > 0 && n < len(s) {
				s, changed = s[n:], true
			}
			if !changed {
				break
			}
		}
		// (6) "[fwd: … ]" wrapper.
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s = s[5 : len(s)-1]
			continue
		}
		return s
	}
}

// blob matches subj-blob = "[" *BLOBCHAR "]" *WSP and returns its length.
func blob(s string) int {
	if len(s) == 0 || s[0] != '[' {
		return 0
	}
	end := strings.IndexAny(s[1:], "[]")
	if end < 0 || s[1+end] != ']' {
		return 0
	}
	n := end + 2
	for n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}

// refwdLeader matches *subj-blob subj-refwd, where
// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":".
func refwdLeader(s string) int {
	i := 0
	for {
		n := blob(s[i:])
		if n == 0 {
			break
		}
		i += n
	}
	switch {
	case hasPrefixFold(s[i:], "re"):
		i += 2
	case hasPrefixFold(s[i:], "fwd"):
		i += 3
	case hasPrefixFold(s[i:], "fw"):
		i += 2
	default:
		return 0
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	i += blob(s[i:])
	if i < len(s) && s[i] == ':' {
		return i + 1
	}
	return 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// collapseSpace turns every run of white space into one space.
func collapseSpace(s string) string {
	var sb strings.Builder
	ws := false
	for _, r := range s {
		switch r {
		case ' ', '\t', '\r', '\n', '\f', '\v', 0xa0:
			ws = true
			continue
		}
		if ws {
			sb.WriteByte(' ')
			ws = false
		}
		sb.WriteRune(r)
	}
	if ws {
		sb.WriteByte(' ')
	}
	return sb.String()
}

// sortMailbox returns the lower-cased local part of the first mailbox
// (RFC 5256 section 3, SORT FROM/TO/CC).
func sortMailbox(list []Address) string {
	for i := range list {
		a := &list[i]
		if a.IsGroupStart() || a.IsGroupEnd() {
			continue
		}
		if a.Mailbox == MissingMailbox {
			return ""
		}
		return strings.ToLower(decodeText(a.Mailbox))
	}
	return ""
}

// sortDisplay returns what RFC 5957 section 3 sorts on: the decoded display
// name of the first mailbox, else its addr-spec; lower-cased.
func sortDisplay(list []Address) string {
	for i := range list {
		a := &list[i]
		if a.IsGroupStart() || a.IsGroupEnd() {
			continue
		}
		if a.Name != "" {
			return strings.ToLower(strings.TrimSpace(collapseSpace(decodeText(a.Name))))
		}
		if a.Mailbox == MissingMailbox {
			return ""
		}
		s := a.Mailbox
		if a.Host != MissingDomain {
			s += "@" + a.Host
		}
		return strings.ToLower(decodeText(s))
	}
	return ""
}

// parseDate parses a Date: value, tolerating comments and trailing junk;
// zero when it cannot.
func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	for range 3 {
		if t, err := mail.ParseDate(s); err == nil {
			return t
		}
		// Drop a trailing comment or word ("(CEST)", "GMT+0200 junk").
		i := strings.LastIndexAny(s, " \t")
		if i < 0 {
			break
		}
		s = strings.TrimSpace(s[:i])
	}
	return time.Time{}
}

// msgIDs returns the msg-ids of a Message-ID, In-Reply-To or References
// value, without angle brackets. A value with no brackets at all counts
// as white-space separated ids.
func msgIDs(s string) []string {
	var ids []string
	rest := s
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(rest[i+1 : i+j]); id != "" {
			ids = append(ids, id)
		}
		rest = rest[i+j+1:]
	}
	if ids == nil && !strings.ContainsAny(s, "<>") {
		if f := strings.Fields(s); len(f) > 0 {
			ids = f
		}
	}
	return ids
}
