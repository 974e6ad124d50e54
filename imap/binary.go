package imap

import (
	"bufio"
	"io"
	"strings"
)

// Content-Transfer-Encoding decoding for FETCH BINARY (RFC 3516). The
// decoders stream: they never hold more than a small buffer of a part.

// cte is how a part's body is decoded for BINARY.
type cte uint8

const (
	cteIdentity cte = iota // 7bit, 8bit, binary, or none: sent as it is
	cteBase64
	cteQP
	cteUnknown // anything else: NO [UNKNOWN-CTE]
)

// cteOf classifies a Content-Transfer-Encoding token as message.Part keeps
// it ("" when missing or unusable, which is 7bit).
func cteOf(enc string) cte {
	switch {
	case enc == "", strings.EqualFold(enc, "7bit"), strings.EqualFold(enc, "8bit"), strings.EqualFold(enc, "binary"):
		return cteIdentity
	case strings.EqualFold(enc, "base64"):
		return cteBase64
	case strings.EqualFold(enc, "quoted-printable"):
		return cteQP
	}
	return cteUnknown
}

// decoder returns r decoded according to e (cteIdentity: r itself).
func decoder(e cte, r io.Reader) io.Reader {
	switch e {
	case cteBase64:
		return &base64Reader{src: r}
	case cteQP:
		return newQPReader(r)
	}
	return r
}

// base64Values maps a byte to its base64 value; 0xff: not in the alphabet,
// 0xfe: the '=' pad.
var base64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	t['='] = 0xfe
	return t
}()

// base64Reader decodes base64 leniently, as RFC 2045 section 6.8 asks:
// characters outside the alphabet (line breaks, white space, garbage) are
// ignored; a pad ends the current quantum and decoding goes on after it
// (concatenated encodings); a final quantum without its pad is decoded as
// far as it goes.
type base64Reader struct {
	src    io.Reader
	in     [4096]byte
	inPos  int
	inEnd  int
	srcErr error
	q      uint32 // sextets of the current quantum
	nq     int
	pend   [3]byte // decoded bytes that did not fit in the caller's buffer
	pendN  int
	pendAt int
	done   bool
}

func (d *base64Reader) Read(p []byte) (int, error) {
	n := 0
	for d.pendAt < d.pendN && n < len(p) {
		p[n] = d.pend[d.pendAt]
		n++
		d.pendAt++
	}
	for n < len(p) && d.pendAt == d.pendN {
		if d.inPos == d.inEnd {
			if d.srcErr != nil {
				if d.done {
					break
				}
				d.done = true
				n = d.flushQuantum(p, n)
				continue
			}
			m, err := d.src.Read(d.in[:])
			d.inPos, d.inEnd, d.srcErr = 0, m, err
			continue
		}
		// Fast path: whole quanta straight into p.
		for d.nq == 0 && d.inEnd-d.inPos >= 4 && len(p)-n >= 3 {
			a, b, c, e := base64Values[d.in[d.inPos]], base64Values[d.in[d.inPos+1]], base64Values[d.in[d.inPos+2]], base64Values[d.in[d.inPos+3]]
			if a|b|c|e >= 64 {
				break
			}
			v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(e)
			p[n], p[n+1], p[n+2] = byte(v>>16), byte(v>>8), byte(v)
			n += 3
			d.inPos += 4
		}
		if d.inPos == d.inEnd || n == len(p) {
			continue
		}
		v := base64Values[d.in[d.inPos]]
		d.inPos++
		switch {
		case v == 0xff:
		case v == 0xfe:
			n = d.flushQuantum(p, n)
		default:
			d.q = d.q<<6 | uint32(v)
			d.nq++
			if d.nq == 4 {
				n = d.emit(p, n, byte(d.q>>16), byte(d.q>>8), byte(d.q))
				d.q, d.nq = 0, 0
			}
		}
	}
	if n == 0 && d.done && d.pendAt == d.pendN {
		return 0, d.srcErr
	}
	return n, nil
}

// flushQuantum emits what an incomplete quantum holds (2 sextets: one
// byte, 3: two bytes) and starts a new one.
func (d *base64Reader) flushQuantum(p []byte, n int) int {
	q, nq := d.q, d.nq
	d.q, d.nq = 0, 0
	switch nq {
	case 2:
		return d.emit(p, n, byte(q>>4))
	case 3:
		return d.emit(p, n, byte(q>>10), byte(q>>2))
	}
	return n
}

// emit copies b into p at n, keeping what does not fit for the next Read.
func (d *base64Reader) emit(p []byte, n int, b ...byte) int {
	k := copy(p[n:], b)
	if k < len(b) {
		d.pendN = copy(d.pend[:], b[k:])
		d.pendAt = 0
	}
	return n + k
}

// qpReader decodes quoted-printable (RFC 2045 section 6.7) leniently:
// white space at the end of a line is dropped, "=" at the end of a line
// (white space allowed after it) is a soft line break, "=XX" is a byte
// (hex digits in either case), and anything else malformed ("=" followed by
// something that is not hex, 8-bit bytes) is kept as it is rather than
// refused.
type qpReader struct {
	r   *bufio.Reader
	out []byte // decoded, not yet returned
	at  int
	ws  []byte // white space seen but not yet known not to end the line
	err error
}

// maxPendingWS bounds the white space held back while looking for the end
// of a line; a longer run is passed through (pathological input only).
const maxPendingWS = 4096

func newQPReader(r io.Reader) *qpReader {
	return &qpReader{r: bufio.NewReaderSize(r, 4096), out: make([]byte, 0, 4096)}
}

func (d *qpReader) Read(p []byte) (int, error) {
	for d.at == len(d.out) {
		if d.err != nil {
			return 0, d.err
		}
		d.out, d.at = d.out[:0], 0
		d.fill()
	}
	n := copy(p, d.out[d.at:])
	d.at += n
	return n, nil
}

// fill decodes input until out has something or the input ends.
func (d *qpReader) fill() {
	for len(d.out) < 2048 {
		b, err := d.r.ReadByte()
		if err != nil {
			// Trailing white space at the end of the data is dropped too.
			d.ws = d.ws[:0]
			d.err = err
			return
		}
		switch b {
		case ' ', '\t':
			if len(d.ws) >= maxPendingWS {
				d.out = append(d.out, d.ws...)
				d.ws = d.ws[:0]
			}
			d.ws = append(d.ws, b)
		case '\r':
			if next, err := d.r.Peek(1); err == nil && next[0] == '\n' {
				d.r.ReadByte()
				d.ws = d.ws[:0]
				d.out = append(d.out, '\r', '\n')
				continue
			}
			d.flushWS()
			d.out = append(d.out, '\r')
		case '\n':
			d.ws = d.ws[:0]
			d.out = append(d.out, '\n')
		case '=':
			d.flushWS()
			d.equals()
		default:
			d.flushWS()
			d.out = append(d.out, b)
		}
	}
}

func (d *qpReader) flushWS() {
	if len(d.ws) > 0 {
		d.out = append(d.out, d.ws...)
		d.ws = d.ws[:0]
	}
}

// equals handles what follows a '='.
func (d *qpReader) equals() {
	next, _ := d.r.Peek(2)
	if len(next) == 2 {
		if hi, ok := unhex(next[0]); ok {
			if lo, ok := unhex(next[1]); ok {
				d.r.Discard(2)
				d.out = append(d.out, hi<<4|lo)
				return
			}
		}
	}
	// A soft line break: "=" [white space] (CRLF / LF / end of data).
	i := 0
	for {
		peek, err := d.r.Peek(i + 1)
		if len(peek) <= i {
			if err != nil { // end of data after "=" and white space
				d.r.Discard(i)
				return
			}
			break
		}
		c := peek[i]
		if c == ' ' || c == '\t' {
			i++
			if i > maxPendingWS {
				break
			}
			continue
		}
		if c == '\n' {
			d.r.Discard(i + 1)
			return
		}
		if c == '\r' {
			if p2, _ := d.r.Peek(i + 2); len(p2) == i+2 && p2[i+1] == '\n' {
				d.r.Discard(i + 2)
				return
			}
		}
		break
	}
	d.out = append(d.out, '=') // malformed: kept as it is
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
