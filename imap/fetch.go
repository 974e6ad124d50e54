package imap

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"letterbox/message"
	"letterbox/storage"
)

// FETCH and UID FETCH (RFC 9051 section 6.4.5; RFC 3501's IMAP4rev1 items;
// BINARY, RFC 3516; MODSEQ and CHANGEDSINCE, RFC 7162; SAVEDATE, RFC 8514).
//
// What each item costs:
//   - UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ SAVEDATE: the narrow row.
//   - ENVELOPE BODY BODYSTRUCTURE: their rendering, kept by blob hash in
//     renderCache (fetch_cache.go); on a miss, the parsed form stored at
//     insert (WantParsed), never a re-parse.
//   - Any section with a part number, MIME, BINARY, BINARY.SIZE: the parsed
//     form, for the part offsets and encodings.
//   - BODY[HEADER], BODY[HEADER.FIELDS ...], RFC822.HEADER, and the offset of
//     BODY[TEXT]: the stored top-level header block (WantHeader); no blob.
//   - Anything else reads the blob: one Open per message, only when one of
//     its items needs it, ranged reads at the part offsets, streamed to the
//     socket; only sections up to smallSection are read into memory.
//
// Responses follow Dovecot's shape (checked against Dovecot 2.3): UID
// first in UID FETCH, then the items the narrow row holds in the order
// asked, then FLAGS when the command set \Seen and FLAGS was not asked,
// then everything else in the order asked. A message expunged meanwhile is
// skipped and the command ends with OK [EXPUNGEISSUED], as Dovecot does.
// Once a response line has started, a failure can only end the connection
// (as in Dovecot): the client could not tell where a broken literal ends.

// fetchChunk bounds how many messages are loaded from storage at a time, so
// that FETCH 1:* BODY.PEEK[HEADER] on a large mailbox never holds every
// header (or parsed structure) in memory at once.
const fetchChunk = 1024

type fetchKind uint8

const (
	fkUID fetchKind = iota
	fkFlags
	fkInternalDate
	fkSize
	fkEnvelope
	fkBodyStructure
	fkBody // BODY: the non-extensible body structure
	fkModSeq
	fkSaveDate
	fkBinarySize
	fkSeenFlags // FLAGS, only for messages whose \Seen this FETCH set
	fkSection   // BODY[...], BODY.PEEK[...], BINARY[...], RFC822*
)

// specKind is the text part of a section (RFC 9051 section-msgtext).
type specKind uint8

const (
	specNone      specKind = iota // the whole message, or the body of a part
	specHeader                    // HEADER (RFC822.HEADER)
	specFields                    // HEADER.FIELDS (list)
	specFieldsNot                 // HEADER.FIELDS.NOT (list)
	specText                      // TEXT (RFC822.TEXT)
	specMIME                      // MIME
)

// section is one BODY[...], BINARY[...], BINARY.SIZE[...] or RFC822* item.
type section struct {
	path    []int
	spec    specKind
	fields  []string // HEADER.FIELDS[.NOT] names (echoed in upper case)
	binary  bool     // BINARY: decode the Content-Transfer-Encoding
	peek    bool     // does not set \Seen
	partial bool
	origin  int64
	length  int64
	name    string // the item as the response names it, e.g. "BODY[1.MIME]<0>"
}

type fetchItem struct {
	kind fetchKind
	sec  *section
}

type fetchRequest struct {
	items        []fetchItem
	want         storage.Want
	setSeen      bool   // a non-PEEK body item: \Seen is set
	binary       bool   // BINARY or BINARY.SIZE items: check encodings first
	changedSince uint64 // CHANGEDSINCE modifier (RFC 7162)
	ncheap       int    // items[:ncheap] come from the narrow row
	// structs are the ENVELOPE/BODYSTRUCTURE/BODY renderings asked. When
	// nothing else needs the parsed form (lazyParsed), they come from
	// renderCache, and the parsed form is loaded only for the misses.
	structs    []structKind
	lazyParsed bool
}

func cmdFetch(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	ns, err := c.seqSetArg()
	if err != nil {
		return "", err
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	req, err := c.parseFetchItems()
	if err != nil {
		return "", err
	}
	if c.p.maybeSP() {
		if err := c.parseFetchModifiers(req); err != nil {
			return "", err
		}
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	uids, err := c.resolve(ns, c.uidCmd)
	if err != nil {
		return "", err
	}
	return c.runFetch(req, uids)
}

// parseFetchItems reads a macro, one item, or a parenthesised list, and
// orders the items as Dovecot answers them: first what the narrow row holds
// (UID, FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ, SAVEDATE; UID leading in
// UID FETCH; then FLAGS when this FETCH sets \Seen), then everything else,
// each group in the order asked. An item asked twice is answered once,
// except sections, which are answered as often as asked (as Dovecot does:
// BODY[1]<0.2> and BODY[1]<0.3> are two answers).
func (c *conn) parseFetchItems() (*fetchRequest, error) {
	var cheap, rest []fetchItem
	var have uint32 // kinds already listed
	add := func(it fetchItem) {
		if it.kind != fkSection && it.kind != fkBinarySize {
			if have&(1<<it.kind) != 0 {
				return
			}
			have |= 1 << it.kind
		}
		switch it.kind {
		case fkUID, fkFlags, fkInternalDate, fkSize, fkModSeq, fkSaveDate:
			cheap = append(cheap, it)
		default:
			rest = append(rest, it)
		}
	}
	if c.uidCmd {
		add(fetchItem{kind: fkUID})
	}
	if c.p.peek() == '(' {
		n := 0
		err := c.p.list(func() error {
			n++
			if n > 1000 {
				return bad("Too many FETCH items")
			}
			return c.parseFetchItem(add, false)
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, bad("FETCH list is empty")
		}
	} else if err := c.parseFetchItem(add, true); err != nil {
		return nil, err
	}
	req := &fetchRequest{}
	for _, it := range rest {
		s := it.sec
		switch {
		case it.kind == fkBinarySize:
			req.binary = true
			req.want |= storage.WantParsed
		case it.kind == fkEnvelope:
			req.structs = append(req.structs, structEnvelope)
		case it.kind == fkBodyStructure:
			req.structs = append(req.structs, structBodyStructure)
		case it.kind == fkBody:
			req.structs = append(req.structs, structBody)
		case s.binary:
			req.binary = true
			req.want |= storage.WantParsed
		case len(s.path) > 0:
			req.want |= storage.WantParsed
		case s.spec != specNone:
			req.want |= storage.WantHeader
		}
		if it.kind == fkSection && !s.peek {
			req.setSeen = true
		}
	}
	if len(req.structs) > 0 && req.want&storage.WantParsed == 0 {
		req.lazyParsed = true
	}
	if req.setSeen && have&(1<<fkFlags) == 0 {
		cheap = append(cheap, fetchItem{kind: fkSeenFlags})
	}
	req.ncheap = len(cheap)
	req.items = append(cheap, rest...)
	return req, nil
}

// parseFetchItem reads one fetch-att (or, when macro, also ALL/FAST/FULL).
func (c *conn) parseFetchItem(add func(fetchItem), macro bool) error {
	start := c.p.pos
	for !c.p.atEOL() && isAtomChar(c.p.line[c.p.pos]) && c.p.line[c.p.pos] != '[' {
		c.p.pos++
	}
	if c.p.pos == start {
		return bad("Expected a FETCH item at %s", c.p.where())
	}
	name := strings.ToUpper(string(c.p.line[start:c.p.pos]))
	simple := func(kinds ...fetchKind) error {
		for _, k := range kinds {
			add(fetchItem{kind: k})
		}
		return nil
	}
	switch name {
	case "ALL", "FAST", "FULL":
		if !macro {
			return bad("FETCH macro %s cannot be in a list", name)
		}
		switch name {
		case "ALL":
			return simple(fkFlags, fkInternalDate, fkSize, fkEnvelope)
		case "FAST":
			return simple(fkFlags, fkInternalDate, fkSize)
		}
		return simple(fkFlags, fkInternalDate, fkSize, fkEnvelope, fkBody)
	case "UID":
		return simple(fkUID)
	case "FLAGS":
		return simple(fkFlags)
	case "INTERNALDATE":
		return simple(fkInternalDate)
	case "RFC822.SIZE":
		return simple(fkSize)
	case "ENVELOPE":
		return simple(fkEnvelope)
	case "BODYSTRUCTURE":
		return simple(fkBodyStructure)
	case "MODSEQ":
		return simple(fkModSeq)
	case "SAVEDATE":
		return simple(fkSaveDate)
	case "RFC822":
		add(fetchItem{kind: fkSection, sec: &section{spec: specNone, name: "RFC822"}})
		return nil
	case "RFC822.HEADER":
		add(fetchItem{kind: fkSection, sec: &section{spec: specHeader, peek: true, name: "RFC822.HEADER"}})
		return nil
	case "RFC822.TEXT":
		add(fetchItem{kind: fkSection, sec: &section{spec: specText, name: "RFC822.TEXT"}})
		return nil
	case "BODY", "BODY.PEEK":
		if c.p.peek() != '[' {
			if name == "BODY.PEEK" {
				return bad("BODY.PEEK needs a section")
			}
			return simple(fkBody)
		}
		s, err := c.parseSection(false)
		if err != nil {
			return err
		}
		s.peek = name == "BODY.PEEK"
		add(fetchItem{kind: fkSection, sec: s})
		return nil
	case "BINARY", "BINARY.PEEK", "BINARY.SIZE":
		if c.p.peek() != '[' {
			return bad("%s needs a section", name)
		}
		s, err := c.parseSection(true)
		if err != nil {
			return err
		}
		if name == "BINARY.SIZE" {
			if s.partial {
				return bad("BINARY.SIZE takes no partial range")
			}
			s.name = "BINARY.SIZE" + s.name[len("BINARY"):]
			add(fetchItem{kind: fkBinarySize, sec: s})
			return nil
		}
		s.peek = name == "BINARY.PEEK"
		add(fetchItem{kind: fkSection, sec: s})
		return nil
	}
	return bad("Unknown FETCH item %s", name)
}

// parseSection reads "[" section "]" [partial]; binary sections take part
// numbers only (RFC 3516 section-binary).
func (c *conn) parseSection(binary bool) (*section, error) {
	c.p.pos++ // '['
	s := &section{binary: binary}
	var text []byte // the section as the response echoes it
	if c.p.peek() != ']' {
	parts:
		for {
			if ch := c.p.peek(); ch >= '0' && ch <= '9' {
				n, err := c.p.number()
				if err != nil || n == 0 {
					return nil, bad("Invalid section part number")
				}
				if len(s.path) >= 64 {
					return nil, bad("Section nested too deep")
				}
				s.path = append(s.path, int(n))
				if len(text) > 0 {
					text = append(text, '.')
				}
				text = strconv.AppendUint(text, uint64(n), 10)
				if c.p.peek() == '.' {
					c.p.pos++
					continue
				}
				break parts
			}
			if binary {
				return nil, bad("A BINARY section takes part numbers only")
			}
			kw, err := c.p.atom()
			if err != nil {
				return nil, bad("Invalid section at %s", c.p.where())
			}
			kw = strings.ToUpper(kw)
			switch kw {
			case "HEADER":
				s.spec = specHeader
			case "TEXT":
				s.spec = specText
			case "MIME":
				if len(s.path) == 0 {
					return nil, bad("MIME needs a part number")
				}
				s.spec = specMIME
			case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
				s.spec = specFields
				if kw == "HEADER.FIELDS.NOT" {
					s.spec = specFieldsNot
				}
				if err := c.p.sp(); err != nil {
					return nil, err
				}
				err := c.p.list(func() error {
					f, err := c.p.astring()
					if err != nil {
						return err
					}
					if len(s.fields) >= 1000 {
						return bad("Too many header fields")
					}
					s.fields = append(s.fields, f)
					return nil
				})
				if err != nil {
					return nil, err
				}
				if len(s.fields) == 0 {
					return nil, bad("Empty header field list")
				}
			default:
				return nil, bad("Unknown section %s", kw)
			}
			if len(text) > 0 {
				text = append(text, '.')
			}
			text = append(text, kw...)
			if s.spec == specFields || s.spec == specFieldsNot {
				// Echoed in upper case, as Dovecot does (clients compare
				// field names case-insensitively).
				text = append(text, " ("...)
				for i, f := range s.fields {
					if i > 0 {
						text = append(text, ' ')
					}
					text = appendAString(text, strings.ToUpper(f))
				}
				text = append(text, ')')
			}
			break
		}
	}
	if c.p.peek() != ']' {
		return nil, bad("Expected ']' at %s", c.p.where())
	}
	c.p.pos++
	if c.p.peek() == '<' {
		c.p.pos++
		var err error
		if s.origin, err = c.p.number64Arg(); err != nil {
			return nil, err
		}
		if c.p.peek() != '.' {
			return nil, bad("Invalid partial range")
		}
		c.p.pos++
		// RFC 9051 wants a non-zero length; Dovecot takes 0 (an empty
		// answer), and so do we.
		l, err := c.p.number64Arg()
		if err != nil {
			return nil, bad("Invalid partial range")
		}
		s.length = l
		if c.p.peek() != '>' {
			return nil, bad("Invalid partial range")
		}
		c.p.pos++
		s.partial = true
	}
	prefix := "BODY["
	if binary {
		prefix = "BINARY["
	}
	name := append([]byte(prefix), text...)
	name = append(name, ']')
	if s.partial {
		name = append(name, '<')
		name = strconv.AppendInt(name, s.origin, 10)
		name = append(name, '>')
	}
	s.name = string(name)
	return s, nil
}

// number64Arg reads a number64 as a signed offset.
func (p *parser) number64Arg() (int64, error) {
	n, err := p.number64()
	if err != nil {
		return 0, bad("Invalid partial range")
	}
	return int64(n), nil
}

// parseFetchModifiers reads "(" modifier *(SP modifier) ")".
func (c *conn) parseFetchModifiers(req *fetchRequest) error {
	if c.p.peek() != '(' {
		return bad("Expected FETCH modifiers at %s", c.p.where())
	}
	return c.p.list(func() error {
		m, err := c.p.atom()
		if err != nil {
			return bad("Invalid FETCH modifier")
		}
		switch strings.ToUpper(m) {
		case "CHANGEDSINCE":
			if err := c.p.sp(); err != nil {
				return err
			}
			n, err := c.p.number64()
			if err != nil || n == 0 {
				return bad("Invalid CHANGEDSINCE value")
			}
			req.changedSince = n
			// RFC 7162 section 3.1.4.1: MODSEQ is then always returned.
			for _, it := range req.items[:req.ncheap] {
				if it.kind == fkModSeq {
					return nil
				}
			}
			i := req.ncheap
			req.items = append(req.items[:i], append([]fetchItem{{kind: fkModSeq}}, req.items[i:]...)...)
			req.ncheap++
			return nil
		case "VANISHED":
			return bad("VANISHED needs QRESYNC, which is not enabled")
		}
		return bad("Unknown FETCH modifier %s", m)
	})
}

// appendAString appends s as an astring: an atom when it can be one, else
// a quoted string, else a literal.
func appendAString(b []byte, s string) []byte {
	if s != "" && isAtom(s) {
		return append(b, s...)
	}
	if canQuote(s, false) {
		b = append(b, '"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				b = append(b, '\\')
			}
			b = append(b, s[i])
		}
		return append(b, '"')
	}
	b = append(b, '{')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, "}\r\n"...)
	return append(b, s...)
}

// fetcher runs one FETCH: it holds the response buffer, reused for every
// message, and the content of the message being answered.
type fetcher struct {
	c       *conn
	req     *fetchRequest
	buf     []byte
	m       *storage.Message
	content *storage.Content
	first   bool                      // no item written yet in this response
	seen    map[storage.UID]bool      // \Seen set by this FETCH
	bin     map[*message.Part]binInfo // decoded sizes, for this message
	// scratchBuf is reused for sections read into memory.
	scratchBuf []byte
	// pre holds, per message of the chunk, the renderings found in
	// renderCache (lazyParsed only); cold is set when most were missing.
	pre  [][3][]byte
	cold bool
}

// runFetch answers for uids (ascending), a chunk at a time.
func (c *conn) runFetch(req *fetchRequest, uids []storage.UID) (string, error) {
	f := &fetcher{c: c, req: req, buf: make([]byte, 0, 4096)}
	expunged := false
	for start := 0; start < len(uids); start += fetchChunk {
		chunk := uids[start:min(start+fetchChunk, len(uids))]
		// When the last chunk mostly missed the cache (a mailbox nobody
		// fetched lately), load the parsed form at once rather than ask
		// twice.
		lazy, want := req.lazyParsed && !f.cold, req.want
		if req.lazyParsed && f.cold {
			want |= storage.WantParsed
		}
		msgs, err := c.srv.Store.Messages(c.ctx, c.acct, c.sel.id, storage.UIDSetOf(chunk...), want)
		if err != nil {
			return "", err
		}
		if len(msgs) < len(chunk) {
			expunged = true
		}
		if req.changedSince > 0 {
			kept := msgs[:0]
			for _, m := range msgs {
				if m.ModSeq > req.changedSince {
					kept = append(kept, m)
				}
			}
			msgs = kept
		}
		if lazy {
			var gone bool
			if msgs, gone, err = f.cachedStructs(msgs); err != nil {
				return "", err
			}
			expunged = expunged || gone
		}
		if req.binary {
			if err := f.checkEncodings(msgs); err != nil {
				return "", err
			}
		}
		if req.setSeen && !c.sel.readOnly {
			if err := f.markSeen(msgs); err != nil {
				return "", err
			}
		}
		for i := range msgs {
			var pre *[3][]byte
			if lazy {
				pre = &f.pre[i]
			}
			gone, err := f.message(&msgs[i], pre)
			if err != nil {
				return "", err
			}
			if gone {
				expunged = true
			}
		}
	}
	if expunged {
		// RFC 9051 section 7.1: as Dovecot, OK without the vanished ones.
		return "[EXPUNGEISSUED] Some messages were already expunged", nil
	}
	return "", nil
}

// cachedStructs looks the chunk's renderings up in renderCache and loads
// the parsed form of the messages it misses, in one storage call. A message
// gone by then is dropped (gone reports it).
func (f *fetcher) cachedStructs(msgs []storage.Message) (_ []storage.Message, gone bool, err error) {
	f.pre = f.pre[:0]
	var miss []storage.UID
	for i := range msgs {
		var v [3][]byte
		if !renderCache.lookup(msgs[i].Blob, f.req.structs, &v) {
			miss = append(miss, msgs[i].UID)
		}
		f.pre = append(f.pre, v)
	}
	f.cold = len(miss)*2 > len(msgs)
	if len(miss) == 0 {
		return msgs, false, nil
	}
	c := f.c
	parsed, err := c.srv.Store.Messages(c.ctx, c.acct, c.sel.id, storage.UIDSetOf(miss...), storage.WantParsed)
	if err != nil {
		return nil, false, err
	}
	kept, pre := msgs[:0], f.pre[:0]
	j := 0
	for i, m := range msgs {
		if !renderCache.complete(&f.pre[i], f.req.structs) {
			for j < len(parsed) && parsed[j].UID < m.UID {
				j++
			}
			if j == len(parsed) || parsed[j].UID != m.UID || parsed[j].Parsed == nil {
				gone = true
				continue
			}
			m.Parsed = parsed[j].Parsed
		}
		kept = append(kept, m)
		pre = append(pre, f.pre[i])
	}
	f.pre = pre
	return kept, gone, nil
}

// markSeen sets \Seen on the messages that lack it, in one storage call,
// and notes the change as reported: this FETCH carries the new FLAGS.
func (f *fetcher) markSeen(msgs []storage.Message) error {
	var need []storage.UID
	for _, m := range msgs {
		if !m.Flags.Seen {
			need = append(need, m.UID)
		}
	}
	if len(need) == 0 {
		return nil
	}
	c := f.c
	res, err := c.srv.Store.StoreFlags(c.ctx, c.acct, c.sel.id, storage.UIDSetOf(need...),
		storage.StoreRequest{Mode: storage.StoreAdd, Flags: []string{storage.FlagSeen}})
	if err != nil {
		return err
	}
	for _, ch := range res.Changed {
		i := sort.Search(len(msgs), func(i int) bool { return msgs[i].UID >= ch.UID })
		if i == len(msgs) || msgs[i].UID != ch.UID {
			continue
		}
		msgs[i].Flags, msgs[i].ModSeq = ch.Flags, ch.ModSeq
		if f.seen == nil {
			f.seen = map[storage.UID]bool{}
		}
		f.seen[ch.UID] = true
		c.sel.noteReported(ch.UID, ch.ModSeq)
	}
	return nil
}

// checkEncodings refuses BINARY of a part whose Content-Transfer-Encoding
// we cannot decode (RFC 3516 section 4.3), before anything is sent.
func (f *fetcher) checkEncodings(msgs []storage.Message) error {
	for i := range msgs {
		m := &msgs[i]
		if m.Parsed == nil {
			continue
		}
		for _, it := range f.req.items {
			if it.sec == nil || !it.sec.binary {
				continue
			}
			part := binaryPart(m.Parsed, it.sec.path)
			if part == nil || part.Flags&message.PartMultipart != 0 {
				continue
			}
			if cteOf(part.Encoding) == cteUnknown {
				return no("UNKNOWN-CTE", "Cannot decode Content-Transfer-Encoding %q of message UID %d", part.Encoding, m.UID)
			}
		}
	}
	return nil
}

// message writes one FETCH response. gone reports a message whose content
// vanished before it could be opened (expunged meanwhile): it is skipped.
func (f *fetcher) message(m *storage.Message, pre *[3][]byte) (gone bool, err error) {
	c := f.c
	f.m = m
	f.bin = nil
	defer f.closeContent()
	if f.needsContent(m) {
		content, err := c.srv.Store.Open(c.ctx, c.acct, c.sel.id, m.UID)
		if errors.Is(err, storage.ErrNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		f.content = content
	}
	seq := c.sel.seqOf(m.UID)
	b := append(f.buf[:0], "* "...)
	b = strconv.AppendUint(b, uint64(seq), 10)
	b = append(b, " FETCH ("...)
	f.first = true
	for _, it := range f.req.items {
		switch it.kind {
		case fkUID:
			b = f.sep(b)
			b = append(b, "UID "...)
			b = strconv.AppendUint(b, uint64(m.UID), 10)
		case fkFlags:
			b = f.flags(b, m)
		case fkSeenFlags:
			if f.seen[m.UID] {
				b = f.flags(b, m)
			}
		case fkInternalDate:
			b = f.sep(b)
			b = append(b, "INTERNALDATE "...)
			b = appendDateTime(b, m.InternalDate)
		case fkSize:
			b = f.sep(b)
			b = append(b, "RFC822.SIZE "...)
			b = strconv.AppendInt(b, m.Size, 10)
		case fkEnvelope:
			b = f.sep(b)
			b = append(b, "ENVELOPE "...)
			b = f.structure(b, m, pre, structEnvelope)
		case fkBodyStructure:
			b = f.sep(b)
			b = append(b, "BODYSTRUCTURE "...)
			b = f.structure(b, m, pre, structBodyStructure)
		case fkBody:
			b = f.sep(b)
			b = append(b, "BODY "...)
			b = f.structure(b, m, pre, structBody)
		case fkModSeq:
			b = f.sep(b)
			b = append(b, "MODSEQ ("...)
			b = strconv.AppendUint(b, m.ModSeq, 10)
			b = append(b, ')')
		case fkSaveDate:
			b = f.sep(b)
			b = append(b, "SAVEDATE "...)
			if m.SaveDate.IsZero() || m.SaveDate.Unix() == 0 {
				b = append(b, "NIL"...)
			} else {
				b = appendDateTime(b, m.SaveDate)
			}
		case fkBinarySize:
			size, err := f.binarySize(m, it.sec)
			if err != nil {
				return false, f.abort(err)
			}
			b = f.sep(b)
			b = append(b, it.sec.name...)
			b = append(b, ' ')
			b = strconv.AppendInt(b, size, 10)
		case fkSection:
			b = f.sep(b)
			b = append(b, it.sec.name...)
			b = append(b, ' ')
			var err error
			if it.sec.binary {
				b, err = f.binarySection(b, m, it.sec)
			} else {
				b, err = f.bodySection(b, m, it.sec)
			}
			if err != nil {
				f.buf = b
				return false, f.abort(err)
			}
		}
	}
	b = append(b, ")\r\n"...)
	c.w.rawBytes(b)
	f.buf = b
	return false, nil
}

// structure appends ENVELOPE, BODYSTRUCTURE or BODY: from the cache when
// it had it, else rendered from the parsed form (and cached).
func (f *fetcher) structure(b []byte, m *storage.Message, pre *[3][]byte, k structKind) []byte {
	if pre != nil && pre[k] != nil {
		return append(b, pre[k]...)
	}
	if m.Parsed == nil {
		// Not reachable: storage always has the parsed form.
		if k == structEnvelope {
			return append(b, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"...)
		}
		return append(b, `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)`...)
	}
	start := len(b)
	switch k {
	case structEnvelope:
		b = m.Parsed.AppendEnvelope(b)
	default:
		b = m.Parsed.AppendBodyStructure(b, k == structBodyStructure)
	}
	renderCache.put(m.Blob, k, b[start:])
	return b
}

func (f *fetcher) sep(b []byte) []byte {
	if f.first {
		f.first = false
		return b
	}
	return append(b, ' ')
}

// flags appends FLAGS. A keyword the session has not announced yet (set
// by another session since the last update) gets an untagged FLAGS first:
// nothing of this response line has been written yet, since FLAGS comes
// before every literal.
func (f *fetcher) flags(b []byte, m *storage.Message) []byte {
	sel := f.c.sel
	announce := false
	for _, k := range m.Flags.Keywords {
		if !sel.keywords[k] {
			sel.keywords[k] = true
			announce = true
		}
	}
	if announce {
		sel.writeFlags(f.c)
	}
	if m.ModSeq > sel.modseq && !f.seen[m.UID] {
		// The client learns these flags now; the next update need not
		// repeat them.
		sel.noteReported(m.UID, m.ModSeq)
	}
	b = f.sep(b)
	b = append(b, "FLAGS "...)
	return appendFlags(b, m.Flags, sel.recent[m.UID])
}

// abort turns a failure in the middle of a response into the end of the
// connection: the response line (maybe a literal) cannot be completed.
func (f *fetcher) abort(err error) error {
	if !isNetErr(err) {
		f.c.log.Error("imap fetch failed mid-response; closing", "uid", f.m.UID, "err", err)
	}
	return fmt.Errorf("fetch uid %d: %v: %w", f.m.UID, err, io.ErrUnexpectedEOF)
}

func (f *fetcher) closeContent() {
	if f.content != nil {
		f.content.Close()
		f.content = nil
	}
}

// appendFlags appends a flag list in storage order, \Recent first when the
// session holds it.
func appendFlags(b []byte, fl storage.Flags, recent bool) []byte {
	b = append(b, '(')
	n := len(b)
	sys := [...]struct {
		on   bool
		name string
	}{{recent, `\Recent`}, {fl.Seen, storage.FlagSeen}, {fl.Answered, storage.FlagAnswered},
		{fl.Flagged, storage.FlagFlagged}, {fl.Deleted, storage.FlagDeleted}, {fl.Draft, storage.FlagDraft}}
	for _, s := range sys {
		if s.on {
			if len(b) > n {
				b = append(b, ' ')
			}
			b = append(b, s.name...)
		}
	}
	for _, k := range fl.Keywords {
		if len(b) > n {
			b = append(b, ' ')
		}
		b = append(b, k...)
	}
	return append(b, ')')
}

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendDateTime appends a quoted date-time, "dd-Mon-yyyy hh:mm:ss +zzzz"
// (RFC 9051 section 9), in the time's own zone.
func appendDateTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	hh, mm, ss := t.Clock()
	_, off := t.Zone()
	b = append(b, '"')
	b = append2(b, d)
	b = append(b, '-')
	b = append(b, monthNames[mo-1]...)
	b = append(b, '-')
	if y < 0 || y > 9999 {
		y = max(0, min(y, 9999))
	}
	b = append2(b, y/100)
	b = append2(b, y%100)
	b = append(b, ' ')
	b = append2(b, hh)
	b = append(b, ':')
	b = append2(b, mm)
	b = append(b, ':')
	b = append2(b, ss)
	if off < 0 {
		b = append(b, " -"...)
		off = -off
	} else {
		b = append(b, " +"...)
	}
	b = append2(b, off/3600)
	b = append2(b, off%3600/60)
	return append(b, '"')
}

func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10%10), byte('0'+n%10))
}
