package lmtp

import (
	"bytes"
	"io"
)

// crlfReader turns bare LF line endings into CRLF: IMAP serves messages
// with CRLF, and RFC822.SIZE must count the bytes it serves (storage keeps
// bytes as they come). It is the only change delivery makes to a message.
// It jumps from LF to LF with IndexByte and hands a chunk without a bare LF
// (every chunk of a well-formed message) through without copying it.
type crlfReader struct {
	r       io.Reader
	lastCR  bool   // the previous chunk ended with CR
	pending []byte // expanded output not yet returned
	scratch []byte
}

func newCRLFReader(r io.Reader) *crlfReader { return &crlfReader{r: r} }

func (c *crlfReader) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	n, err := c.r.Read(p)
	if n == 0 {
		return 0, err
	}
	chunk := p[:n]
	if !hasBareLF(chunk, c.lastCR) {
		c.lastCR = chunk[n-1] == '\r'
		return n, err
	}
	out := c.scratch[:0]
	prevCR := c.lastCR
	for b := chunk; len(b) > 0; {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b...)
			break
		}
		if !(i > 0 && b[i-1] == '\r' || i == 0 && prevCR) {
			out = append(out, b[:i]...)
			out = append(out, '\r', '\n')
		} else {
			out = append(out, b[:i+1]...)
		}
		prevCR = false
		b = b[i+1:]
	}
	c.lastCR = chunk[n-1] == '\r'
	c.scratch = out
	m := copy(p, out)
	c.pending = out[m:]
	if len(c.pending) > 0 {
		// The rest comes with the next Read; an error (io.EOF) waits
		// until it is gone, and the underlying reader gives it again.
		return m, nil
	}
	return m, err
}

// hasBareLF reports whether b has an LF not preceded by CR; prevCR says
// whether the byte before b was CR.
func hasBareLF(b []byte, prevCR bool) bool {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return false
		}
		at := off + i
		if at == 0 && !prevCR || at > 0 && b[at-1] != '\r' {
			return true
		}
		off = at + 1
	}
}
