package message

import (
	"bytes"
	"encoding/base64"
	"html"
	"io"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// RFC 8970 section 3.1: a preview is at most 256 characters; we keep 200.
const previewChars = 200

// How much raw body is kept to make the preview from: enough for 200
// characters after base64, quoted-printable or HTML markup.
const (
	previewPlainBytes = 4 << 10
	previewHTMLBytes  = 32 << 10
)

// previewState keeps the start of the first inline text/plain and the first
// inline text/html part while Parse streams the message.
type previewState struct {
	plain, html *capture
}

type capture struct {
	part  *Part
	buf   []byte
	limit int
}

// start returns a capture for part's body if it may feed the preview.
func (s *previewState) start(part *Part) *capture {
	if s.plain != nil {
		return nil // a text/plain part was found: it wins
	}
	if part.Flags&PartHasDisposition != 0 && strings.EqualFold(part.Disposition, "attachment") {
		return nil
	}
	typ, sub := part.Type, part.Subtype
	if part.Flags&PartHasType == 0 {
		typ, sub = "text", "plain"
	}
	if typ != "text" {
		return nil
	}
	switch {
	case sub == "plain":
		s.plain = &capture{part: part, limit: previewPlainBytes}
		return s.plain
	case sub == "html" && s.html == nil:
		s.html = &capture{part: part, limit: previewHTMLBytes}
		return s.html
	}
	return nil
}

func (c *capture) add(b []byte) {
	if room := c.limit - len(c.buf); room > 0 {
		c.buf = append(c.buf, b[:min(room, len(b))]...)
	}
}

// text returns the preview: from the text/plain part if it has any text,
// else from the text/html one.
func (s *previewState) text() string {
	if s.plain != nil {
		if t := s.plain.text(false); t != "" {
			return t
		}
	}
	if s.html != nil {
		return s.html.text(true)
	}
	return ""
}

func (c *capture) text(isHTML bool) string {
	b := c.buf
	switch strings.ToLower(c.part.Encoding) {
	case "base64":
		b = decodeBase64(b)
	case "quoted-printable":
		// A truncated or broken encoding still yields what came before.
		b, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
	}
	cs := ""
	for _, kv := range c.part.Params {
		if kv[0] == "charset" {
			cs = strings.ToLower(kv[1])
		}
	}
	if cs != "" && cs != "utf-8" && cs != "us-ascii" && cs != "utf8" {
		if r, err := charset.Reader(cs, bytes.NewReader(b)); err == nil {
			if d, err := io.ReadAll(r); err == nil || len(d) > 0 {
				b = d
			}
		}
	}
	s := string(b)
	if isHTML {
		s = stripHTML(s)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return previewText(s)
}

// previewText collapses white space, drops NULs and control characters,
// and keeps the first previewChars characters.
func previewText(s string) string {
	var sb strings.Builder
	n := 0
	ws := false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\f' || r == '\v' || r == 0xa0:
			ws = true
			continue
		case r < 0x20 || r == 0x7f:
			continue
		}
		if ws && n > 0 {
			if n >= previewChars-1 {
				break
			}
			sb.WriteByte(' ')
			n++
		}
		ws = false
		if n >= previewChars {
			break
		}
		sb.WriteRune(r)
		n++
	}
	return sb.String()
}

// decodeBase64 decodes as much as it can, ignoring line endings, junk and
// a cut-off end.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// stripHTML returns the text of an HTML fragment: tags become white space,
// comments and the content of head, script and style go, entities are
// decoded.
func stripHTML(s string) string {
	var sb strings.Builder
	skipUntil := ""
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			if skipUntil == "" {
				sb.WriteString(html.UnescapeString(s))
			}
			break
		}
		if skipUntil == "" {
			sb.WriteString(html.UnescapeString(s[:lt]))
		}
		s = s[lt:]
		if strings.HasPrefix(s, "<!--") {
			end := strings.Index(s, "-->")
			if end < 0 {
				break
			}
			s = s[end+3:]
			continue
		}
		gt := strings.IndexByte(s, '>')
		if gt < 0 {
			break
		}
		tag := strings.ToLower(strings.TrimLeft(s[1:gt], "/ "))
		if i := strings.IndexAny(tag, " \t\r\n/"); i >= 0 {
			tag = tag[:i]
		}
		closing := len(s) > 1 && s[1] == '/'
		s = s[gt+1:]
		switch {
		case skipUntil != "":
			if closing && tag == skipUntil {
				skipUntil = ""
			}
		case !closing && (tag == "head" || tag == "script" || tag == "style" || tag == "title"):
			skipUntil = tag
		default:
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}
