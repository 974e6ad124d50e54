package imap

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
)

// writer builds responses into a buffered writer; the connection flushes
// once per command.
type writer struct {
	w *bufio.Writer
	// utf8 is set once the client enabled IMAP4rev2 or UTF8=ACCEPT: mailbox
	// names and strings go out as UTF-8 (quoted when possible).
	utf8 bool
}

func (w *writer) raw(s string)      { w.w.WriteString(s) }
func (w *writer) rawBytes(b []byte) { w.w.Write(b) }
func (w *writer) byte(c byte)       { w.w.WriteByte(c) }
func (w *writer) num(n uint64)      { w.w.Write(strconv.AppendUint(nil, n, 10)) }
func (w *writer) crlf()             { w.w.WriteString("\r\n") }
func (w *writer) flush() error      { return w.w.Flush() }
func (w *writer) untagged(s string) { w.raw("* "); w.raw(s); w.crlf() }
func (w *writer) cont(text string)  { w.raw("+ "); w.raw(text); w.crlf() }
func (w *writer) tagged(tag, status, text string) {
	w.raw(tag)
	w.byte(' ')
	w.raw(status)
	w.byte(' ')
	w.raw(text)
	w.crlf()
}

// astring writes s as an atom when it can be one, else as a string.
func (w *writer) astring(s string) {
	if s != "" && len(s) < 256 && isAtom(s) && !eqFoldNIL(s) {
		w.raw(s)
		return
	}
	w.string(s)
}

func eqFoldNIL(s string) bool {
	return len(s) == 3 && (s[0]|0x20) == 'n' && (s[1]|0x20) == 'i' && (s[2]|0x20) == 'l'
}

func isAtom(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAtomChar(s[i]) {
			return false
		}
	}
	return true
}

// string writes s quoted when it may be, else as a literal.
func (w *writer) string(s string) {
	if canQuote(s, w.utf8) {
		w.byte('"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				w.byte('\\')
			}
			w.byte(s[i])
		}
		w.byte('"')
		return
	}
	w.literal(s)
}

func (w *writer) literal(s string) {
	w.byte('{')
	w.num(uint64(len(s)))
	w.raw("}\r\n")
	w.raw(s)
}

// literalFrom writes a literal of n bytes copied from r.
func (w *writer) literalFrom(r io.Reader, n int64, binary bool) error {
	if binary {
		w.byte('~')
	}
	w.byte('{')
	w.num(uint64(n))
	w.raw("}\r\n")
	_, err := io.CopyN(w.w, r, n)
	return err
}

func (w *writer) nstring(s string, ok bool) {
	if !ok {
		w.raw("NIL")
		return
	}
	w.string(s)
}

// canQuote: no CR, LF, NUL; 8-bit only as valid UTF-8 when allowed.
func canQuote(s string, utf8OK bool) bool {
	if len(s) > 1000 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\n' || c == 0:
			return false
		case c >= 0x80:
			if !utf8OK || !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}
