package sieve

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"
	"sync"

	"github.com/emersion/go-message/charset"
)

// maxHeaderBytes bounds the header block a Message reads.
const maxHeaderBytes = 1 << 20

// Message is the message a script filters: its header fields, parsed
// once, and its body, read on demand. editheader makes edited copies;
// the original is never changed.
type Message struct {
	fields  []field
	body    io.ReaderAt // the whole message; the body starts at bodyOff
	bodyOff int64
	size    int64 // of the whole original message
	// edited is true for a copy changed by editheader.
	edited bool
	// mime is the MIME structure, parsed on first use (mimepart.go);
	// copies share it.
	mime *mimeTree
}

type field struct {
	name  string // as written
	raw   string // value as written after the colon, folding kept, no final CRLF
	added bool   // added by editheader (addheader), for :last/:index rules
}

// ParseMessage reads a message held in memory.
func ParseMessage(b []byte) (*Message, error) {
	return NewMessage(bytes.NewReader(b), int64(len(b)))
}

// NewMessage reads the header of the message in r (size bytes) and keeps
// r to read the body from when a test needs it.
func NewMessage(r io.ReaderAt, size int64) (*Message, error) {
	// Read what most header blocks fit in, and more only when the header
	// goes on past it: a script needs the header, not the body.
	// parseHeader copies what it keeps, so the first buffer is pooled.
	n := min(size, headerReadSize, maxHeaderBytes)
	for {
		var buf []byte
		if n <= headerReadSize {
			pb := headerBufs.Get().(*[]byte)
			defer headerBufs.Put(pb)
			buf = (*pb)[:n]
		} else {
			buf = make([]byte, n)
		}
		got, err := r.ReadAt(buf, 0)
		if err != nil && err != io.EOF {
			return nil, err
		}
		buf = buf[:got]
		all := int64(got) < n || n >= min(size, maxHeaderBytes)
		fields, off, ended := parseHeader(buf, all)
		if ended || all {
			return &Message{fields: fields, body: r, bodyOff: int64(off), size: size, mime: &mimeTree{}}, nil
		}
		n = min(4*n, size, maxHeaderBytes)
	}
}

// headerReadSize is the first read of a header: most fit in it.
const headerReadSize = 8 << 10

var headerBufs = sync.Pool{New: func() any { b := make([]byte, headerReadSize); return &b }}

// parseHeader splits a header block into fields and returns the offset
// of the body, and whether the header ended within b. A line that is
// neither a field nor a continuation ends the header (a message with no
// blank line: all header). all says that b is all there is to read: a
// last line without LF is a line; otherwise it may go on after b.
func parseHeader(b []byte, all bool) ([]field, int, bool) {
	var out []field
	off := 0
	for off < len(b) {
		end := bytes.IndexByte(b[off:], '\n')
		line, next := b[off:], len(b)
		switch {
		case end >= 0:
			line, next = b[off:off+end], off+end+1
		case !all:
			return out, off, false
		}
		trimmed := bytes.TrimSuffix(line, []byte("\r"))
		if len(trimmed) == 0 {
			return out, next, true
		}
		if (trimmed[0] == ' ' || trimmed[0] == '\t') && len(out) > 0 {
			out[len(out)-1].raw += "\r\n" + string(trimmed)
			off = next
			continue
		}
		colon := bytes.IndexByte(trimmed, ':')
		if colon <= 0 || !validFieldName(trimmed[:colon]) {
			// Not a header line: the body starts here.
			return out, off, true
		}
		out = append(out, field{name: string(trimmed[:colon]), raw: string(trimmed[colon+1:])})
		off = next
	}
	return out, off, false
}

func validFieldName(b []byte) bool {
	for _, c := range b {
		if c <= 32 || c >= 127 || c == ':' {
			return false
		}
	}
	return true
}

// Size is the size of the message in bytes (RFC 5228 section 5.9).
func (m *Message) Size() int64 {
	if !m.edited {
		return m.size
	}
	return int64(m.headerLen()) + m.size - m.bodyOff
}

func (m *Message) headerLen() int {
	n := 2
	for _, f := range m.fields {
		n += len(f.name) + 1 + len(f.raw) + 2
	}
	return n
}

// Edited reports whether editheader changed this message.
func (m *Message) Edited() bool { return m.edited }

// WriteTo writes the message (edited header, original body).
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	var hb bytes.Buffer
	for _, f := range m.fields {
		hb.WriteString(f.name)
		hb.WriteByte(':')
		hb.WriteString(f.raw)
		hb.WriteString("\r\n")
	}
	hb.WriteString("\r\n")
	n, err := w.Write(hb.Bytes())
	total := int64(n)
	if err != nil {
		return total, err
	}
	c, err := io.Copy(w, io.NewSectionReader(m.body, m.bodyOff, m.size-m.bodyOff))
	return total + c, err
}

// Bytes returns the whole message.
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	m.WriteTo(&b)
	return b.Bytes()
}

// Body returns the raw body (after the header's blank line).
func (m *Message) Body() ([]byte, error) {
	b := make([]byte, m.size-m.bodyOff)
	n, err := m.body.ReadAt(b, m.bodyOff)
	if err == io.EOF && int64(n) == int64(len(b)) {
		err = nil
	}
	return b[:n], err
}

// clone returns an editable copy sharing the body.
func (m *Message) clone() *Message {
	c := *m
	c.fields = append([]field(nil), m.fields...)
	c.edited = true
	return &c
}

// rawValues returns the unfolded raw values of the fields named name,
// in order.
func (m *Message) rawValues(name string) []string {
	var out []string
	for _, f := range m.fields {
		if strings.EqualFold(f.name, name) {
			out = append(out, unfold(f.raw))
		}
	}
	return out
}

// headerValues returns the values of the fields named name as header
// tests see them: unfolded, trimmed, RFC 2047 words decoded (RFC 5228
// section 5.7 and section 2.7.2).
func (m *Message) headerValues(name string) []string {
	raw := m.rawValues(name)
	for i, v := range raw {
		raw[i] = decodeWords(strings.TrimSpace(v))
	}
	return raw
}

// HeaderValues returns the values of the fields named name as header
// tests see them.
func (m *Message) HeaderValues(name string) []string { return m.headerValues(name) }

// unfold removes the line breaks of a folded header value.
func unfold(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "")
	return strings.ReplaceAll(s, "\n", "")
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// decodeWords decodes RFC 2047 encoded words; what does not decode stays
// as it is.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

func (f field) String() string { return fmt.Sprintf("%s:%s", f.name, f.raw) }
