package message

import (
	"bufio"
	"bytes"
	"io"
	"sync"
	"time"
)

// Limits that keep Parse's memory bounded whatever the message.
const (
	// maxHeaderBytes is how much of one header block is kept for parsing its
	// fields; the rest still counts in sizes but its fields are not seen.
	maxHeaderBytes = 256 << 10
	// maxDepth bounds MIME nesting (multipart in multipart, message/rfc822 in
	// a message); a deeper part is treated as an opaque leaf.
	maxDepth = 64
	// maxParts bounds the number of parts in the tree; once reached, further
	// boundaries are plain body text of the multipart that holds them.
	maxParts = 5000
	// maxBoundaryLen truncates absurd boundary parameters (RFC 2046 section
	// 5.1.1 allows 70 characters).
	maxBoundaryLen = 256
	// readBufSize is the longest chunk handled as one piece; a longer line
	// is read in several chunks (only a chunk that starts a line can be a
	// boundary or the end of a header).
	readBufSize = 64 << 10
)

// Parsed is what Parse learns about a message. Storage keeps it (Marshal)
// beside the message blob.
type Parsed struct {
	Size  int64 // total bytes read (RFC822.SIZE when the input is in CRLF form)
	Lines int64 // number of LF characters: a last line without LF is not counted
	Root  *Part // MIME tree with byte offsets; never nil

	Envelope Envelope // RFC 9051 ENVELOPE, from the top-level header

	// Fields for SORT (RFC 5256) and THREAD, decoded at insert so that
	// storage can keep them in columns and compare them without parsing.
	Subject     string // Subject: with RFC 2047 words decoded to UTF-8, unfolded
	BaseSubject string // RFC 5256 section 2.1 base subject of Subject (case kept)
	// From, To and Cc are the addr-mailbox (local part) of the first mailbox
	// of that header, lower-cased: what SORT FROM/TO/CC compare (RFC 5256
	// section 3). Empty when there is none.
	From, To, Cc string
	// FromDisplay and ToDisplay are what SORT DISPLAYFROM/DISPLAYTO compare
	// (RFC 5957 section 3): the RFC 2047-decoded display name of the first
	// mailbox, or its addr-spec when it has no display name; lower-cased.
	FromDisplay, ToDisplay string
	Date                   time.Time // Date: header; zero if missing or unparsable
	MessageID              string    // Message-ID: msg-id without angle brackets
	InReplyTo              string    // first msg-id of In-Reply-To:, without angle brackets
	References             []string  // msg-ids of References:, in order, without angle brackets
	// Preview is the RFC 8970 preview: up to 200 characters of the first
	// inline text/plain part (else of the first text/html part, tags
	// stripped), whitespace collapsed, valid UTF-8.
	Preview string
}

// Part is one MIME part. Offsets are into the whole message as Parse read it.
type Part struct {
	Offset     int64 // start of this part's header (for the root: 0)
	HeaderSize int64 // bytes of header, including the blank separator line
	BodyOffset int64 // = Offset + HeaderSize
	// BodySize is the size of the body; for a part in a multipart it stops
	// before the line ending that precedes the next boundary line, which
	// RFC 2046 section 5.1.1 makes part of the boundary.
	BodySize  int64
	BodyLines int64 // LF characters in the body

	// Type and Subtype are lower-cased. They are empty when the part has no
	// (usable) Content-Type; Dovecot renders such a part as "text" "plain".
	Type, Subtype string
	Params        [][2]string // Content-Type parameters in order; names lower-cased
	ID            string      // Content-ID, raw (CR/LF removed)
	Description   string      // Content-Description, raw (CR/LF removed)
	// Encoding is the Content-Transfer-Encoding token as written (compare
	// it case-insensitively); empty when missing or unusable (rendered
	// "7bit").
	Encoding          string
	Disposition       string      // Content-Disposition type as written
	DispositionParams [][2]string // its parameters in order; names lower-cased
	Language          []string    // Content-Language tags
	Location          string      // Content-Location, raw (CR/LF removed)
	MD5               string      // Content-MD5, raw (CR/LF removed)

	// Flags records how the part was parsed (PartMultipart, PartMessage…).
	Flags PartFlags

	Children []*Part // for a multipart: its body parts
	// Message and MessageEnvelope are the encapsulated message of a
	// message/rfc822 or message/global part (or of a part with no
	// Content-Type inside a multipart/digest).
	Message         *Part
	MessageEnvelope *Envelope
}

// PartFlags records facts about a part that its fields do not show.
type PartFlags uint8

const (
	// PartMultipart: parsed as a multipart (a multipart type with a
	// boundary); Children holds its parts.
	PartMultipart PartFlags = 1 << iota
	// PartMessage: parsed as an encapsulated message; Message holds it.
	PartMessage
	// PartHasType etc. record which MIME fields were present, to tell an
	// empty value from a missing one (NIL) when rendering.
	PartHasType
	PartHasID
	PartHasDescription
	PartHasLocation
	PartHasMD5
	PartHasDisposition
)

// Parse reads a whole message from r and returns its structure. The message
// is expected in CRLF form; bare LF line endings are accepted too. Parse
// streams: it never holds the body in memory. It fails only when r does.
func Parse(r io.Reader) (*Parsed, error) {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		readerPool.Put(br)
	}()
	p := &parser{r: br, start: true}
	root := &Part{}
	p.nparts = 1
	m := &Parsed{Root: root}
	p.parsePart(root, 0, false, func(hdr []byte) {
		m.Envelope = parseEnvelope(hdr)
		m.setSortFields(hdr)
	})
	// Drain whatever a truncated structure left (nothing, normally).
	for {
		if _, ok := p.peek(); !ok {
			break
		}
		p.advance()
	}
	if p.err != nil {
		return nil, p.err
	}
	m.Size, m.Lines = p.pos, p.lfs
	m.Preview = p.preview.text()
	return m, nil
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}

// parser reads the message chunk by chunk. A chunk is a line with its LF,
// or a piece of a line longer than the buffer. The current chunk stays in
// the reader's buffer until advance, so one chunk of look-ahead is free.
type parser struct {
	r     *bufio.Reader
	err   error
	chunk []byte
	have  bool  // chunk is read and not yet consumed
	eof   bool  // nothing more to read (or a read error)
	start bool  // the current chunk starts a line
	pos   int64 // offset of the current chunk
	lfs   int64 // LF characters before the current chunk
	// prevEOL is the length of the line ending just before the current
	// chunk (2 for CRLF, 1 for LF, 0 for none).
	prevEOL int
	bounds  []*boundary // boundaries of the open multiparts, outermost first
	floor   int64       // end of the last part finished: no part may end before it
	nparts  int
	preview previewState
}

type boundary struct {
	s      string
	closed bool
}

// peek returns the current chunk, reading it if needed; ok is false at the
// end of input.
func (p *parser) peek() ([]byte, bool) {
	if p.have {
		return p.chunk, true
	}
	if p.eof {
		return nil, false
	}
	c, err := p.r.ReadSlice('\n')
	if err != nil && err != bufio.ErrBufferFull {
		if err != io.EOF {
			p.err = err
			p.eof = true
			return nil, false
		}
		if len(c) == 0 {
			p.eof = true
			return nil, false
		}
	}
	p.chunk, p.have = c, true
	return c, true
}

// advance consumes the current chunk.
func (p *parser) advance() {
	c := p.chunk
	p.pos += int64(len(c))
	p.have = false
	if n := len(c); n > 0 && c[n-1] == '\n' {
		p.lfs++
		p.start = true
		if n > 1 && c[n-2] == '\r' {
			p.prevEOL = 2
		} else {
			p.prevEOL = 1
		}
	} else {
		p.start = false
		p.prevEOL = 0
	}
}

// atBoundary reports whether the current chunk is a boundary line of an
// open multipart, and which. Like Dovecot, only the start of the line has to
// match (RFC 2046 section 5.1.1 allows trailing white space, and broken
// mailers add more), the longest matching boundary wins, and the innermost
// wins a tie so that nested parts reusing a boundary still work.
func (p *parser) atBoundary(c []byte) (b *boundary, end bool) {
	if !p.start || len(p.bounds) == 0 || len(c) < 2 || c[0] != '-' || c[1] != '-' {
		return nil, false
	}
	line := c[2:]
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	for i := len(p.bounds) - 1; i >= 0; i-- {
		bd := p.bounds[i]
		if bd.closed || len(bd.s) > len(line) || string(line[:len(bd.s)]) != bd.s {
			continue
		}
		if b == nil || len(bd.s) > len(b.s) {
			b = bd
		}
	}
	if b == nil {
		return nil, false
	}
	rest := line[len(b.s):]
	return b, len(rest) >= 2 && rest[0] == '-' && rest[1] == '-'
}

// readHeader consumes a header block: up to and including the blank line
// that ends it, or up to a boundary line or the end of input. It returns
// the block (at most maxHeaderBytes of it), without the blank line.
func (p *parser) readHeader() []byte {
	var hdr []byte
	for {
		c, ok := p.peek()
		if !ok {
			return hdr
		}
		if p.start {
			if (len(c) == 1 && c[0] == '\n') || (len(c) == 2 && c[0] == '\r' && c[1] == '\n') {
				p.advance()
				return hdr
			}
			if b, _ := p.atBoundary(c); b != nil {
				return hdr
			}
		}
		if room := maxHeaderBytes - len(hdr); room > 0 {
			hdr = append(hdr, c[:min(room, len(c))]...)
		}
		p.advance()
	}
}

// parsePart parses one part (header and body) from the current position,
// which starts a line. It stops at the end of input or before a boundary
// line of an enclosing multipart. onHeader, if not nil, sees the header
// block before the body is read (so that it is not kept meanwhile).
func (p *parser) parsePart(part *Part, depth int, inDigest bool, onHeader func(hdr []byte)) {
	part.Offset = p.pos
	hdr := p.readHeader()
	if onHeader != nil {
		onHeader(hdr)
	}
	part.BodyOffset = p.pos
	part.HeaderSize = part.BodyOffset - part.Offset
	bodyLFs := p.lfs
	bnd := part.setMIME(hdr, inDigest)

	switch {
	case part.Flags&PartMultipart != 0 && depth < maxDepth:
		p.parseMultipart(part, bnd, depth)
	case part.Flags&PartMessage != 0 && depth < maxDepth:
		child := &Part{}
		p.nparts++
		part.Message = child
		p.parsePart(child, depth+1, false, func(hdr []byte) {
			env := parseEnvelope(hdr)
			part.MessageEnvelope = &env
		})
	default:
		part.Flags &^= PartMultipart | PartMessage
		p.skipBody(part)
	}
	p.finish(part, bodyLFs)
}

// finish sets the body size and lines of part, which ends here.
func (p *parser) finish(part *Part, bodyLFs int64) {
	end, lines := p.pos, p.lfs-bodyLFs
	if p.have && p.prevEOL > 0 {
		// Stopped at a boundary line: the line ending before it is the
		// boundary's (RFC 2046 section 5.1.1). When that line ending is
		// also the blank line of a part that just ended (an empty body
		// right before an enclosing boundary), it stays with that part, so
		// that parts always nest.
		if e := end - int64(p.prevEOL); e >= part.BodyOffset && e >= p.floor {
			end = e
			lines--
		}
	}
	part.BodySize, part.BodyLines = end-part.BodyOffset, lines
	p.floor = max(p.floor, end)
}

// parseMultipart reads the body of a multipart: preamble, body parts,
// epilogue. A boundary that never shows makes it all preamble; a missing
// close delimiter ends the last part at the end of input.
func (p *parser) parseMultipart(part *Part, bnd string, depth int) {
	own := &boundary{s: bnd}
	p.bounds = append(p.bounds, own)
	defer func() { p.bounds = p.bounds[:len(p.bounds)-1] }()
	digest := part.Subtype == "digest"
	for {
		c, ok := p.peek()
		if !ok {
			return
		}
		b, end := p.atBoundary(c)
		if b == nil {
			p.advance() // preamble, epilogue
			continue
		}
		if b != own {
			return // an enclosing part ends here, and so does this one
		}
		if p.nparts >= maxParts {
			own.closed = true // from here on, the rest is body text
			continue
		}
		p.advance()
		if end {
			own.closed = true // what follows is the epilogue
			continue
		}
		child := &Part{}
		p.nparts++
		part.Children = append(part.Children, child)
		p.parsePart(child, depth+1, digest, nil)
	}
}

// skipBody consumes the body of a leaf part, feeding the preview.
func (p *parser) skipBody(part *Part) {
	capture := p.preview.start(part)
	for {
		c, ok := p.peek()
		if !ok {
			break
		}
		if b, _ := p.atBoundary(c); b != nil {
			break
		}
		if capture != nil {
			capture.add(c)
		}
		p.advance()
	}
}
