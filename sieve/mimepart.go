package sieve

import (
	"bytes"
	"html"
	"io"
	"mime"
	"strings"
	"sync"
	"unsafe"

	gomessage "github.com/emersion/go-message"

	"letterbox/message"
)

// The MIME structure of the message, shared by the body test (RFC 5173)
// and the mime, foreverypart and extracttext extensions (RFC 5703).
//
// The structure comes from letterbox/message's streaming parser: a tree
// of parts with byte offsets into the message, nothing of the bodies.
// Part headers and contents are read from the message's io.ReaderAt when
// a test needs them, and a part's content is read only up to
// Limits.MaxBodySize bytes (decoded): a 50 MB attachment never sits in
// memory, and a body test sees the first MaxBodySize bytes of each part.

// mimeTree is a message's MIME structure, parsed on first use. An edited
// copy of the message (editheader) shares its original's tree: editheader
// changes the top-level header only, and the parts keep their offsets.
type mimeTree struct {
	once sync.Once
	root *message.Part
	err  error
}

// SetStructure gives the message the MIME structure its caller already
// parsed with message.Parse over the same bytes, so that body and mime
// tests do not parse the message again.
func (m *Message) SetStructure(p *message.Parsed) {
	t := &mimeTree{root: p.Root}
	t.once.Do(func() {})
	m.mime = t
}

// structure returns the root of the message's MIME tree.
func (m *Message) structure() (*message.Part, error) {
	t := m.mime
	if t == nil {
		// A Message made without NewMessage: parse, but do not cache (the
		// message may be shared between runs).
		t = &mimeTree{}
	}
	t.once.Do(func() {
		p, err := message.Parse(io.NewSectionReader(m.body, 0, m.size))
		if err != nil {
			t.err = err
			return
		}
		t.root = p.Root
	})
	return t.root, t.err
}

// hasBody reports whether the message has a body at all: a message that
// ends inside its header has none, and every body test is false for it
// (RFC 5173 section 4, "If a message consists of a header only, not
// followed by an empty line, then that set is empty").
func (m *Message) hasBody() bool {
	if m.bodyOff < m.size {
		return true
	}
	// The header ran to the end: was it closed by an empty line?
	n := min(m.bodyOff, 3)
	tail := make([]byte, n)
	got, _ := m.body.ReadAt(tail, m.bodyOff-n)
	tail = tail[:got]
	return bytes.HasSuffix(tail, []byte("\n\n")) || bytes.HasSuffix(tail, []byte("\n\r\n")) ||
		string(tail) == "\r\n" || string(tail) == "\n"
}

// rawBody returns at most limit bytes of the undecoded body.
func (m *Message) rawBody(limit int) string {
	n := min(m.size-m.bodyOff, int64(limit))
	if n <= 0 {
		return ""
	}
	b := make([]byte, n)
	got, _ := m.body.ReadAt(b, m.bodyOff)
	return string(b[:got])
}

// mimeRun is the per-run MIME state: the tree, the part each enclosing
// foreverypart loop is at, and the part headers read so far.
type mimeRun struct {
	tree  *mimeTree // whose structure this is: a new message needs a new state
	root  *message.Part
	loops []*message.Part // current part of each active foreverypart loop, outermost first
	// headers caches part header fields (not the root's: those are
	// r.msg's, which editheader changes); cached counts their bytes.
	headers map[*message.Part][]field
	cached  int
	// contents caches decoded part contents, so that a script with many
	// body tests decodes each part once; contentBytes counts them.
	contents     map[contentKey]cachedContent
	contentBytes int
}

type contentKey struct {
	p    *message.Part
	text bool // partText (HTML as text) rather than partContent
}

type cachedContent struct {
	s  string
	ok bool
}

// maxCachedContent bounds the decoded contents a run keeps; past it,
// parts are decoded again when a test needs them.
const maxCachedContent = 4 << 20

// maxCachedHeaders bounds the part header bytes a run keeps; past it,
// headers are read again when needed.
const maxCachedHeaders = 1 << 20

// maxPartHeader bounds how much of one part's header is read.
const maxPartHeader = 64 << 10

func (r *runtime) mimeState() (*mimeRun, error) {
	// The message changes under a run only in the test suite (test_set);
	// editheader's copies share their original's tree.
	if st, ok := r.ext["mimepart"].(*mimeRun); ok && st.tree == r.msg.mime && st.tree != nil {
		return st, nil
	}
	root, err := r.msg.structure()
	if err != nil {
		return nil, r.errorf(Pos{}, "cannot read the message structure: %v", err)
	}
	st := &mimeRun{tree: r.msg.mime, root: root, headers: map[*message.Part][]field{},
		contents: map[contentKey]cachedContent{}}
	r.ext["mimepart"] = st
	return st, nil
}

// current is the part the :mime tests look at: the part of the innermost
// foreverypart loop, or the whole message (RFC 5703 section 4.1).
func (st *mimeRun) current() *message.Part {
	if n := len(st.loops); n > 0 {
		return st.loops[n-1]
	}
	return st.root
}

// fields returns the header fields of p.
func (st *mimeRun) fields(r *runtime, p *message.Part) []field {
	if p == st.root {
		return r.msg.fields
	}
	if f, ok := st.headers[p]; ok {
		return f
	}
	n := min(p.HeaderSize, maxPartHeader)
	buf := make([]byte, n)
	got, _ := r.msg.body.ReadAt(buf, p.Offset)
	f, _, _ := parseHeader(buf[:got], true)
	if st.cached+got <= maxCachedHeaders {
		st.cached += got
		st.headers[p] = f
	}
	return f
}

// partChildren returns the parts directly inside p: the body parts of a
// multipart, or the message a message/rfc822 part holds.
func partChildren(p *message.Part) []*message.Part {
	if p.Message != nil {
		return []*message.Part{p.Message}
	}
	return p.Children
}

// descendants appends every part inside p, depth first, in the order
// they appear in the message.
func descendants(out []*message.Part, p *message.Part) []*message.Part {
	for _, c := range partChildren(p) {
		out = append(out, c)
		out = descendants(out, c)
	}
	return out
}

// partType is p's content type, lower case; a part without a
// Content-Type field is text/plain, or message/rfc822 in a digest (RFC
// 2045 section 5.2, RFC 2046 section 5.1.5). A field that does not parse
// gives "" and "": such a part matches no type.
func partType(p *message.Part) (typ, sub string) {
	if p.Flags&message.PartHasType == 0 {
		if p.Flags&message.PartMessage != 0 {
			return "message", "rfc822"
		}
		return "text", "plain"
	}
	return p.Type, p.Subtype
}

func partParam(p *message.Part, name string) string {
	for _, kv := range p.Params {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

func firstValue(fields []field, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return unfold(f.raw), true
		}
	}
	return "", false
}

// partContent returns the content of leaf part p with its transfer
// encoding removed and, for text, its charset converted to UTF-8, at
// most limit bytes of it. ok is false when the content cannot be
// decoded (an unknown transfer encoding): such a part is not searched.
func (r *runtime) partContent(st *mimeRun, p *message.Part, limit int) (string, bool) {
	if c, hit := st.contents[contentKey{p, false}]; hit {
		return c.s, c.ok
	}
	s, ok := r.decodePart(st, p, limit)
	st.remember(contentKey{p, false}, s, ok)
	return s, ok
}

func (st *mimeRun) remember(k contentKey, s string, ok bool) {
	if st.contentBytes+len(s) <= maxCachedContent {
		st.contentBytes += len(s)
		st.contents[k] = cachedContent{s, ok}
	}
}

func (r *runtime) decodePart(st *mimeRun, p *message.Part, limit int) (string, bool) {
	typ, sub := partType(p)
	cte, hasCTE := firstValue(st.fields(r, p), "Content-Transfer-Encoding")
	cte = strings.TrimSpace(cte)
	if identityContent(p, typ, cte) {
		// What go-message would hand through unchanged: read it as is,
		// into a buffer the run returns to a pool when it ends (content
		// serves tests; extracttext copies what it keeps).
		b := r.pooledBuf(int(min(p.BodySize, int64(limit))))
		got, _ := r.msg.body.ReadAt(b, p.BodyOffset)
		if got == 0 {
			return "", true
		}
		return unsafe.String(unsafe.SliceData(b), got), true // b is not written again in this run
	}
	var h gomessage.Header
	ct := typ + "/" + sub
	if cs := partParam(p, "charset"); cs != "" {
		ct = mime.FormatMediaType(ct, map[string]string{"charset": cs})
	}
	if typ != "" {
		h.Set("Content-Type", ct)
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	if hasCTE {
		h.Set("Content-Transfer-Encoding", cte)
	}
	e, err := gomessage.New(h, io.NewSectionReader(r.msg.body, p.BodyOffset, p.BodySize))
	if err != nil && gomessage.IsUnknownEncoding(err) {
		return "", false
	}
	// An unknown charset leaves the bytes as they are; a broken base64 or
	// quoted-printable body gives what decoded before the damage.
	var b strings.Builder
	b.Grow(int(min(p.BodySize, int64(limit))))
	buf := copyBufs.Get().(*[]byte)
	io.CopyBuffer(&b, io.LimitReader(e.Body, int64(limit)), *buf) // io.Copy would allocate 32 KiB
	copyBufs.Put(buf)
	return b.String(), true
}

// identityContent reports whether decoding part p (of type typ, with
// Content-Transfer-Encoding cte) changes nothing: no transfer encoding,
// and no charset to convert from (go-message passes UTF-8 and US-ASCII
// text through, and applies charsets to text only).
func identityContent(p *message.Part, typ, cte string) bool {
	if p.Flags&(message.PartMultipart|message.PartMessage) != 0 {
		return false
	}
	switch strings.ToLower(cte) {
	case "", "7bit", "8bit", "binary":
	default:
		return false
	}
	if typ != "text" {
		return true
	}
	switch strings.ToLower(partParam(p, "charset")) {
	case "", "utf-8", "us-ascii":
		return true
	}
	return false
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 8<<10); return &b }}

// partText is what :text and extracttext see of leaf part p: its decoded
// content for a text part, with HTML turned into plain text. ok is false
// for a part that is not text.
func (r *runtime) partText(st *mimeRun, p *message.Part, limit int) (string, bool) {
	typ, sub := partType(p)
	isHTML := typ == "text" && sub == "html" || typ == "application" && sub == "xhtml+xml"
	if typ != "text" && !isHTML || p.Flags&(message.PartMultipart|message.PartMessage) != 0 {
		return "", false
	}
	if !isHTML {
		return r.partContent(st, p, limit)
	}
	if c, hit := st.contents[contentKey{p, true}]; hit {
		return c.s, c.ok
	}
	s, ok := r.partContent(st, p, limit)
	if ok {
		s = htmlToText(s)
	}
	st.remember(contentKey{p, true}, s, ok)
	return s, ok
}

// preambleEpilogue returns the text before the first boundary and after
// the close delimiter of multipart p (RFC 2046 section 5.1.1), at most
// limit bytes each.
func (r *runtime) preambleEpilogue(p *message.Part, limit int) (pre, epi string, hasEpi bool) {
	bnd := "--" + partParam(p, "boundary")
	bodyEnd := p.BodyOffset + p.BodySize
	end := bodyEnd
	if len(p.Children) > 0 {
		end = p.Children[0].Offset
	}
	region := r.readRange(p.BodyOffset, end, limit)
	if i := lineStartIndex(region, bnd); i >= 0 {
		region = region[:i]
		region = strings.TrimSuffix(strings.TrimSuffix(region, "\n"), "\r")
	}
	pre = region
	if len(p.Children) == 0 {
		return pre, "", false
	}
	last := p.Children[len(p.Children)-1]
	start := last.BodyOffset + last.BodySize
	// The close delimiter line sits at the start of this range; read a
	// little more than limit so that it does not eat the epilogue's share.
	tail := r.readRange(start, bodyEnd, limit+len(bnd)+8)
	i := lineStartIndex(tail, bnd+"--")
	if i < 0 {
		return pre, "", false
	}
	tail = tail[i:]
	nl := strings.IndexByte(tail, '\n')
	if nl < 0 {
		return pre, "", true
	}
	epi = tail[nl+1:]
	if len(epi) > limit {
		epi = epi[:limit]
	}
	return pre, epi, true
}

func (r *runtime) readRange(from, to int64, limit int) string {
	n := min(to-from, int64(limit))
	if n <= 0 {
		return ""
	}
	b := make([]byte, n)
	got, _ := r.msg.body.ReadAt(b, from)
	return string(b[:got])
}

// lineStartIndex finds the first line of s that starts with prefix.
func lineStartIndex(s, prefix string) int {
	for off := 0; off < len(s); {
		if strings.HasPrefix(s[off:], prefix) {
			return off
		}
		nl := strings.IndexByte(s[off:], '\n')
		if nl < 0 {
			return -1
		}
		off += nl + 1
	}
	return -1
}

// htmlToText turns HTML into the text a reader sees: tags go, the
// contents of script and style elements and comments go, block elements
// end a line, entities are decoded. It is not an HTML parser: it only
// has to keep markup out of body :text and extracttext (RFC 5173 section
// 5.3 allows stripping mark-up).
func htmlToText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			b.WriteString(html.UnescapeString(s[i:]))
			break
		}
		b.WriteString(html.UnescapeString(s[i : i+lt]))
		i += lt
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		gt := strings.IndexByte(s[i:], '>')
		if gt < 0 {
			break
		}
		tag := tagName(s[i+1 : i+gt])
		i += gt + 1
		switch tag {
		case "script", "style":
			// Skip to the closing tag.
			end := indexFold(s[i:], "</"+tag)
			if end < 0 {
				i = len(s)
				continue
			}
			i += end
			if gt := strings.IndexByte(s[i:], '>'); gt >= 0 {
				i += gt + 1
			} else {
				i = len(s)
			}
		case "br", "p", "/p", "div", "/div", "tr", "/tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
			"/h1", "/h2", "/h3", "/h4", "/h5", "/h6", "table", "/table", "blockquote", "/blockquote",
			"pre", "/pre", "hr", "ul", "/ul", "ol", "/ol", "title", "/title":
			b.WriteByte('\n')
		case "td", "th":
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// tagName returns the lower-case name of a tag from what is between < and
// >, with "/" kept for an end tag.
func tagName(t string) string {
	end := 0
	if strings.HasPrefix(t, "/") {
		end = 1
	}
	for end < len(t) && (isAlpha(t[end]) || isDigit(t[end])) {
		end++
	}
	return strings.ToLower(t[:end])
}

// indexFold finds lower-case ASCII sub in s, ignoring ASCII case.
func indexFold(s, sub string) int {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return bytes.Index(b, []byte(sub))
}
