package imap

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"

	"letterbox/message"
	"letterbox/storage"
)

// Sections (RFC 9051 section 6.4.5), resolved against the stored parsed
// form as Dovecot resolves them (its imap-msgpart.c): a part number that
// does not exist, or HEADER/TEXT of a part that is not message/rfc822,
// gives an empty string; MIME of the body of a message/rfc822 part is that
// message's header; a last ".1" on a part that is neither multipart nor
// message/rfc822 names the part itself (BODY[2.1] = BODY[2] for a leaf).

// findPart returns the part path names, or nil, walking as Dovecot's
// imap_msgpart_find does: a multipart's n-th body part; for anything else
// only 1, which is the part itself, and which may be followed by more
// numbers only in a message/rfc822 part, whose numbers then name the parts
// of the message it holds.
func findPart(p *message.Parsed, path []int) *message.Part {
	part := p.Root
	for i, n := range path {
		more := i+1 < len(path)
		if part.Flags&message.PartMultipart != 0 {
			if n < 1 || n > len(part.Children) {
				return nil
			}
			part = part.Children[n-1]
		} else if n != 1 || (more && part.Flags&message.PartMessage == 0) {
			return nil
		}
		if more && part.Flags&message.PartMessage != 0 {
			if part.Message == nil {
				return nil
			}
			part = part.Message
		}
	}
	return part
}

// smallSection is the largest section read into memory whole; bigger ones
// are streamed (in two passes when their output size is not known
// beforehand: header field selection, BINARY decoding).
const smallSection = 256 << 10

// srcKind says where a BODY section's bytes come from.
type srcKind uint8

const (
	srcEmpty       srcKind = iota
	srcMem                 // mem
	srcRange               // the content's bytes [off, off+n)
	srcFieldsMem           // header fields selected from mem
	srcFieldsRange         // header fields selected from the content's [off, off+n)
)

type source struct {
	kind   srcKind
	mem    []byte
	off, n int64
}

// bodySource resolves a BODY section (or RFC822 item) of m.
func bodySource(m *storage.Message, s *section) source {
	if len(s.path) == 0 {
		switch s.spec {
		case specHeader:
			return source{kind: srcMem, mem: m.Header}
		case specFields, specFieldsNot:
			return source{kind: srcFieldsMem, mem: m.Header}
		case specText:
			h := int64(len(m.Header))
			if m.Parsed != nil {
				h = m.Parsed.Root.HeaderSize
			}
			return source{kind: srcRange, off: h, n: m.Size - h}
		}
		return source{kind: srcRange, off: 0, n: m.Size}
	}
	if m.Parsed == nil {
		return source{}
	}
	part := findPart(m.Parsed, s.path)
	if part == nil {
		return source{}
	}
	switch s.spec {
	case specNone:
		return source{kind: srcRange, off: part.BodyOffset, n: part.BodySize}
	case specMIME:
		return source{kind: srcRange, off: part.Offset, n: part.HeaderSize}
	}
	if part.Flags&message.PartMessage == 0 || part.Message == nil {
		return source{}
	}
	mp := part.Message
	switch s.spec {
	case specHeader:
		return source{kind: srcRange, off: mp.Offset, n: mp.HeaderSize}
	case specFields, specFieldsNot:
		return source{kind: srcFieldsRange, off: mp.Offset, n: mp.HeaderSize}
	}
	return source{kind: srcRange, off: mp.BodyOffset, n: mp.BodySize}
}

// binaryPart is the part a BINARY section names: the whole message for [].
func binaryPart(p *message.Parsed, path []int) *message.Part {
	if len(path) == 0 {
		return p.Root
	}
	return findPart(p, path)
}

// binaryPlan says how a BINARY section is produced: the raw bytes
// [off, off+n) of the content, decoded with e (cteIdentity: as they are),
// after the rewritten header of the message for BINARY[] of a single-part
// message with an encoded body (as Dovecot does: its
// Content-Transfer-Encoding fields are replaced by "binary").
type binaryPlan struct {
	empty  bool
	e      cte
	off, n int64
	header bool // prefix the rewritten top-level header
	part   *message.Part
}

func planBinary(m *storage.Message, s *section) binaryPlan {
	if m.Parsed == nil {
		return binaryPlan{empty: true}
	}
	part := binaryPart(m.Parsed, s.path)
	if part == nil {
		return binaryPlan{empty: true}
	}
	whole := len(s.path) == 0
	e := cteIdentity
	if part.Flags&message.PartMultipart == 0 {
		e = cteOf(part.Encoding)
	}
	if e == cteIdentity {
		if whole {
			return binaryPlan{e: e, off: 0, n: m.Size, part: part}
		}
		return binaryPlan{e: e, off: part.BodyOffset, n: part.BodySize, part: part}
	}
	return binaryPlan{e: e, off: part.BodyOffset, n: part.BodySize, header: whole, part: part}
}

// needsContent reports whether any item of m reads the message blob.
func (f *fetcher) needsContent(m *storage.Message) bool {
	for _, it := range f.req.items {
		switch it.kind {
		case fkSection:
			if it.sec.binary {
				if p := planBinary(m, it.sec); !p.empty && (p.n > 0 || p.header) {
					return true
				}
				continue
			}
			if src := bodySource(m, it.sec); (src.kind == srcRange || src.kind == srcFieldsRange) && src.n > 0 {
				return true
			}
		case fkBinarySize:
			if p := planBinary(m, it.sec); !p.empty && p.e != cteIdentity {
				return true
			}
		}
	}
	return false
}

// window applies a partial range to data of size total: the offset into
// the data and how many bytes go out.
func (s *section) window(total int64) (skip, n int64) {
	if !s.partial {
		return 0, total
	}
	if s.origin >= total {
		return total, 0
	}
	return s.origin, min(s.length, total-s.origin)
}

// clip bounds a range to the content (nothing when the message's items
// needed no content).
func (f *fetcher) clip(off, n int64) (int64, int64) {
	if f.content == nil {
		return 0, 0
	}
	size := f.content.Size()
	off = min(max(off, 0), size)
	return off, max(0, min(n, size-off))
}

// bodySection appends (and writes) a BODY[...] or RFC822 value: always a
// literal, with NUL bytes sent as 0x80 as Dovecot does (IMAP forbids NUL
// outside literal8). It returns the emptied buffer.
func (f *fetcher) bodySection(b []byte, m *storage.Message, s *section) ([]byte, error) {
	src := bodySource(m, s)
	var data []byte
	switch src.kind {
	case srcEmpty:
	case srcMem:
		data = src.mem
	case srcFieldsMem:
		data = selectFields(f.scratch(len(src.mem)), src.mem, s)
	case srcFieldsRange:
		off, n := f.clip(src.off, src.n)
		if n > smallSection {
			return f.bigFields(b, off, n, s)
		}
		raw, err := f.read(off, n)
		if err != nil {
			return b, err
		}
		// selectFields writes no more than it reads, so it can work in place.
		data = selectFields(raw[:0], raw, s)
	case srcRange:
		off, n := f.clip(src.off, src.n)
		skip, n := s.window(n)
		b = appendLiteralHeader(b, n, false)
		f.c.w.rawBytes(b)
		if n == 0 {
			return b[:0], nil
		}
		return b[:0], copyN(f.c.w.w, nonul{f.content.Section(off+skip, n)}, n)
	}
	skip, n := s.window(int64(len(data)))
	data = data[skip : skip+n]
	if bytes.IndexByte(data, 0) >= 0 {
		data = bytes.ReplaceAll(data, []byte{0}, []byte{0x80})
	}
	return f.literalBytes(b, data, false), nil
}

// bigFields selects header fields from a header too big to hold: one pass
// to size the result, one to send it.
func (f *fetcher) bigFields(b []byte, off, n int64, s *section) ([]byte, error) {
	var cnt countWriter
	if err := selectFieldsStream(f.content.Section(off, n), s, &cnt); err != nil {
		return b, err
	}
	skip, n2 := s.window(cnt.n)
	b = appendLiteralHeader(b, n2, false)
	f.c.w.rawBytes(b)
	w := &windowWriter{w: f.c.w.w, skip: skip, left: n2, nonul: true}
	if err := selectFieldsStream(f.content.Section(off, n), s, w); err != nil {
		return b[:0], err
	}
	if w.left != 0 {
		return b[:0], io.ErrUnexpectedEOF
	}
	return b[:0], nil
}

// binarySize is BINARY.SIZE: the size of the decoded section.
func (f *fetcher) binarySize(m *storage.Message, s *section) (int64, error) {
	p := planBinary(m, s)
	switch {
	case p.empty:
		return 0, nil
	case p.e == cteIdentity:
		return p.n, nil
	}
	info, err := f.decodedInfo(m, p)
	return info.size, err
}

// binInfo is what a full pass over a decoded section learned.
type binInfo struct {
	size int64
	nul  bool
}

// decodedInfo decodes a section once to learn its size (cached for the
// message, so BINARY.SIZE[1] BINARY[1] decodes twice, not three times).
func (f *fetcher) decodedInfo(m *storage.Message, p binaryPlan) (binInfo, error) {
	if info, ok := f.bin[p.part]; ok && !p.header {
		return info, nil
	}
	r, err := f.binaryReader(m, p)
	if err != nil {
		return binInfo{}, err
	}
	size, nul, err := measure(r, 0, -1)
	if err != nil {
		return binInfo{}, err
	}
	info := binInfo{size: size, nul: nul}
	if !p.header {
		if f.bin == nil {
			f.bin = map[*message.Part]binInfo{}
		}
		f.bin[p.part] = info
	}
	return info, nil
}

// binaryReader returns a fresh reader of the whole decoded section.
func (f *fetcher) binaryReader(m *storage.Message, p binaryPlan) (io.Reader, error) {
	off, n := f.clip(p.off, p.n)
	r := decoder(p.e, f.content.Section(off, n))
	if !p.header {
		return r, nil
	}
	hdr, err := f.topHeader(m)
	if err != nil {
		return nil, err
	}
	return io.MultiReader(bytes.NewReader(binaryHeader(hdr)), r), nil
}

// topHeader is the message's header block.
func (f *fetcher) topHeader(m *storage.Message) ([]byte, error) {
	if m.Header != nil {
		return m.Header, nil
	}
	off, n := f.clip(0, m.Parsed.Root.HeaderSize)
	buf := make([]byte, n)
	if _, err := io.ReadFull(f.content.Section(off, n), buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// binarySection appends (and writes) a BINARY[...] value: the decoded
// section, as literal8 when it holds a NUL (RFC 3516), else as a literal.
func (f *fetcher) binarySection(b []byte, m *storage.Message, s *section) ([]byte, error) {
	p := planBinary(m, s)
	if p.empty || f.content == nil || (s.partial && s.length == 0) {
		return f.literalBytes(b, nil, false), nil
	}
	off, n := f.clip(p.off, p.n)
	if p.e == cteIdentity {
		skip, n := s.window(n)
		if n <= smallSection {
			data, err := f.read(off+skip, n)
			if err != nil {
				return b, err
			}
			return f.literalBytes(b, data, bytes.IndexByte(data, 0) >= 0), nil
		}
		_, nul, err := measure(f.content.Section(off+skip, n), 0, -1)
		if err != nil {
			return b, err
		}
		b = appendLiteralHeader(b, n, nul)
		f.c.w.rawBytes(b)
		return b[:0], copyN(f.c.w.w, f.content.Section(off+skip, n), n)
	}
	if n <= smallSection {
		// Decoded data is never longer than base64 or quoted-printable.
		r, err := f.binaryReader(m, p)
		if err != nil {
			return b, err
		}
		data, err := readAllInto(f.scratch(int(n)+smallHeaderGuess), r)
		if err != nil {
			return b, err
		}
		f.scratchBuf = data[:0]
		skip, n := s.window(int64(len(data)))
		data = data[skip : skip+n]
		return f.literalBytes(b, data, bytes.IndexByte(data, 0) >= 0), nil
	}
	var skip, total int64
	var nul bool
	if s.partial {
		r, err := f.binaryReader(m, p)
		if err != nil {
			return b, err
		}
		end, wnul, err := measure(r, s.origin, s.length)
		if err != nil {
			return b, err
		}
		skip, total, nul = min(s.origin, end), max(0, end-s.origin), wnul
	} else {
		info, err := f.decodedInfo(m, p)
		if err != nil {
			return b, err
		}
		total, nul = info.size, info.nul
	}
	r, err := f.binaryReader(m, p)
	if err != nil {
		return b, err
	}
	if _, err := io.CopyN(io.Discard, r, skip); err != nil {
		return b, err
	}
	b = appendLiteralHeader(b, total, nul)
	f.c.w.rawBytes(b)
	return b[:0], copyN(f.c.w.w, r, total)
}

// smallHeaderGuess leaves room for the rewritten header of BINARY[].
const smallHeaderGuess = 8 << 10

// read reads the content's [off, off+n) into the scratch buffer.
func (f *fetcher) read(off, n int64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	buf := f.scratch(int(n))[:n]
	if _, err := io.ReadFull(f.content.Section(off, n), buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// scratch returns the reusable buffer, emptied, with room for n bytes.
func (f *fetcher) scratch(n int) []byte {
	if cap(f.scratchBuf) < n {
		f.scratchBuf = make([]byte, 0, max(n, 4096))
	}
	return f.scratchBuf[:0]
}

// literalBytes appends a literal holding data (and writes the buffer out
// when data is large), returning the buffer to go on with.
func (f *fetcher) literalBytes(b, data []byte, lit8 bool) []byte {
	b = appendLiteralHeader(b, int64(len(data)), lit8)
	if len(data) <= 16<<10 {
		return append(b, data...)
	}
	f.c.w.rawBytes(b)
	f.c.w.rawBytes(data)
	return b[:0]
}

func appendLiteralHeader(b []byte, n int64, lit8 bool) []byte {
	if lit8 {
		b = append(b, '~')
	}
	b = append(b, '{')
	b = strconv.AppendInt(b, n, 10)
	return append(b, "}\r\n"...)
}

// copyN copies exactly n bytes; a short source is an error.
func copyN(w io.Writer, r io.Reader, n int64) error {
	_, err := io.CopyN(w, r, n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readAllInto reads r to its end, appending to buf.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// measure reads r and returns how far it got (to its end, or to
// origin+length when length > 0) and whether a NUL byte shows from origin
// on.
func measure(r io.Reader, origin, length int64) (end int64, nul bool, err error) {
	var buf [32 << 10]byte
	limit := int64(-1)
	if length > 0 {
		limit = origin + length
	}
	for {
		want := len(buf)
		if limit >= 0 {
			if end >= limit {
				return end, nul, nil
			}
			want = int(min(int64(want), limit-end))
		}
		n, rerr := r.Read(buf[:want])
		if n > 0 && !nul {
			chunk := buf[:n]
			if end < origin {
				chunk = chunk[min(int64(n), origin-end):]
			}
			nul = bytes.IndexByte(chunk, 0) >= 0
		}
		end += int64(n)
		if rerr == io.EOF {
			return end, nul, nil
		}
		if rerr != nil {
			return end, nul, rerr
		}
	}
}

// nonul replaces NUL bytes with 0x80 on the way through.
type nonul struct{ r io.Reader }

func (z nonul) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	q := p[:n]
	for {
		i := bytes.IndexByte(q, 0)
		if i < 0 {
			break
		}
		q[i] = 0x80
		q = q[i+1:]
	}
	return n, err
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// windowWriter passes on bytes [skip, skip+left) of what is written to it.
type windowWriter struct {
	w     io.Writer
	skip  int64
	left  int64
	nonul bool
}

func (ww *windowWriter) Write(p []byte) (int, error) {
	n := len(p)
	if ww.skip > 0 {
		k := min(int64(len(p)), ww.skip)
		p, ww.skip = p[k:], ww.skip-k
	}
	if int64(len(p)) > ww.left {
		p = p[:ww.left]
	}
	if len(p) == 0 {
		return n, nil
	}
	if ww.nonul && bytes.IndexByte(p, 0) >= 0 {
		p = bytes.ReplaceAll(p, []byte{0}, []byte{0x80})
	}
	ww.left -= int64(len(p))
	_, err := ww.w.Write(p)
	return n, err
}

// Header field selection (HEADER.FIELDS, HEADER.FIELDS.NOT) as Dovecot
// does it: the fields whose names match (or, for .NOT, do not match),
// case-insensitively, in message order, each with its folded continuation
// lines, then a blank line. The header's own blank line ends the scan.

// fieldFilter decides, line by line, what goes out.
type fieldFilter struct {
	s           *section
	include     bool
	startOfLine bool
	emitted     bool
	lastLF      bool
}

// line looks at one chunk (a whole line, or a piece of a long one); done
// is set at the blank line that ends the header.
func (ff *fieldFilter) line(c []byte) (emit, done bool) {
	if ff.startOfLine {
		if (len(c) == 1 && c[0] == '\n') || (len(c) == 2 && c[0] == '\r' && c[1] == '\n') {
			return false, true
		}
		if c[0] != ' ' && c[0] != '\t' {
			name := c
			if i := bytes.IndexByte(c, ':'); i >= 0 {
				name = c[:i]
			} else {
				name = bytes.TrimRight(name, "\r\n")
			}
			name = bytes.TrimRight(name, " \t")
			ff.include = matchField(name, ff.s.fields) != (ff.s.spec == specFieldsNot)
		}
	}
	ff.startOfLine = c[len(c)-1] == '\n'
	if ff.include {
		ff.emitted = true
		ff.lastLF = ff.startOfLine
	}
	return ff.include, false
}

// end is what follows the selected fields: a line ending if the last one
// had none, and the blank line.
func (ff *fieldFilter) end() []byte {
	if ff.emitted && !ff.lastLF {
		return []byte("\r\n\r\n")
	}
	return []byte("\r\n")
}

func matchField(name []byte, fields []string) bool {
	for _, f := range fields {
		if len(f) == len(name) && strings.EqualFold(f, string(name)) {
			return true
		}
	}
	return false
}

// selectFields appends the selected fields of header block hdr to dst.
func selectFields(dst, hdr []byte, s *section) []byte {
	ff := fieldFilter{s: s, startOfLine: true}
	for len(hdr) > 0 {
		i := bytes.IndexByte(hdr, '\n')
		line := hdr
		if i >= 0 {
			line = hdr[:i+1]
		}
		hdr = hdr[len(line):]
		emit, done := ff.line(line)
		if done {
			break
		}
		if emit {
			dst = append(dst, line...)
		}
	}
	return append(dst, ff.end()...)
}

// selectFieldsStream writes the selected fields of the header block r holds.
func selectFieldsStream(r io.Reader, s *section, w io.Writer) error {
	br := bufio.NewReaderSize(r, 16<<10)
	ff := fieldFilter{s: s, startOfLine: true}
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			emit, done := ff.line(chunk)
			if done {
				break
			}
			if emit {
				if _, werr := w.Write(chunk); werr != nil {
					return werr
				}
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	_, err := w.Write(ff.end())
	return err
}

// binaryHeader rewrites a header block for BINARY[] of a message whose
// body was decoded: its Content-Transfer-Encoding fields go and
// "Content-Transfer-Encoding: binary" is added before the blank line, as
// Dovecot does.
func binaryHeader(hdr []byte) []byte {
	out := make([]byte, 0, len(hdr)+40)
	skip := false
	rest := hdr
	blank := []byte(nil)
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		line := rest
		if i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if string(line) == "\r\n" || string(line) == "\n" {
			blank = line
			break
		}
		if line[0] != ' ' && line[0] != '\t' {
			name := line
			if j := bytes.IndexByte(line, ':'); j >= 0 {
				name = line[:j]
			}
			skip = strings.EqualFold(string(bytes.TrimRight(name, " \t")), "Content-Transfer-Encoding")
		}
		if !skip {
			out = append(out, line...)
		}
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, "\r\n"...)
	}
	out = append(out, "Content-Transfer-Encoding: binary\r\n"...)
	if blank == nil {
		blank = []byte("\r\n")
	}
	return append(out, blank...)
}
