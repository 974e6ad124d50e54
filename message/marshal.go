package message

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Encoding (version 1), all integers unsigned varints unless said, strings
// as a varint length and the bytes:
//
//	version byte (1)
//	Size Lines
//	counts: parts addresses params languages envelopes references
//	Subject BaseSubject From To Cc FromDisplay ToDisplay MessageID InReplyTo Preview
//	date: flag byte (0 zero time), unix seconds (signed), nanoseconds, zone offset seconds (signed)
//	References: n, strings
//	envelope, then the root part (recursive)
//
// envelope: Has byte, Date Subject InReplyTo MessageID, then six address
// lists (From Sender ReplyTo To Cc Bcc), each n and 4 strings per address.
// part: Offset HeaderSize BodySize BodyLines Flags, Type Subtype, params,
// ID Description Encoding Disposition, disposition params, languages,
// Location MD5, children (n, parts), and for PartMessage a byte 1 followed
// by the envelope and part of the message (0 when absent).
//
// The counts let Unmarshal allocate every Part, Address, parameter and
// language in one slice each, and all strings share one copy of the input:
// decoding costs a handful of allocations whatever the message.
const encodingVersion = 1

var errCorrupt = errors.New("message: corrupt encoding")

// Marshal encodes p for storage; Unmarshal decodes it.
func (p *Parsed) Marshal() []byte {
	var c counts
	c.refs = len(p.References)
	c.envelope(&p.Envelope)
	c.part(p.Root)

	b := make([]byte, 0, 256)
	b = append(b, encodingVersion)
	b = binary.AppendUvarint(b, uint64(p.Size))
	b = binary.AppendUvarint(b, uint64(p.Lines))
	for _, n := range []int{c.parts, c.addrs, c.params, c.langs, c.envs, c.refs} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	for _, s := range []string{p.Subject, p.BaseSubject, p.From, p.To, p.Cc, p.FromDisplay, p.ToDisplay, p.MessageID, p.InReplyTo, p.Preview} {
		b = appendStr(b, s)
	}
	if p.Date.IsZero() {
		b = append(b, 0)
	} else {
		_, off := p.Date.Zone()
		b = append(b, 1)
		b = binary.AppendVarint(b, p.Date.Unix())
		b = binary.AppendUvarint(b, uint64(p.Date.Nanosecond()))
		b = binary.AppendVarint(b, int64(off))
	}
	b = binary.AppendUvarint(b, uint64(len(p.References)))
	for _, r := range p.References {
		b = appendStr(b, r)
	}
	b = appendEnvelope(b, &p.Envelope)
	return appendPart(b, p.Root)
}

type counts struct{ parts, addrs, params, langs, envs, refs int }

func (c *counts) envelope(e *Envelope) {
	c.envs++
	c.addrs += len(e.From) + len(e.Sender) + len(e.ReplyTo) + len(e.To) + len(e.Cc) + len(e.Bcc)
}

func (c *counts) part(p *Part) {
	c.parts++
	c.params += len(p.Params) + len(p.DispositionParams)
	c.langs += len(p.Language)
	for _, ch := range p.Children {
		c.part(ch)
	}
	if p.Flags&PartMessage != 0 && p.Message != nil {
		if p.MessageEnvelope != nil {
			c.envelope(p.MessageEnvelope)
		} else {
			c.envs++
		}
		c.part(p.Message)
	}
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendEnvelope(b []byte, e *Envelope) []byte {
	b = append(b, byte(e.Has))
	for _, s := range []string{e.Date, e.Subject, e.InReplyTo, e.MessageID} {
		b = appendStr(b, s)
	}
	for _, list := range [][]Address{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for i := range list {
			a := &list[i]
			b = appendStr(b, a.Name)
			b = appendStr(b, a.Route)
			b = appendStr(b, a.Mailbox)
			b = appendStr(b, a.Host)
		}
	}
	return b
}

func appendParamList(b []byte, params [][2]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(params)))
	for _, kv := range params {
		b = appendStr(b, kv[0])
		b = appendStr(b, kv[1])
	}
	return b
}

func appendPart(b []byte, p *Part) []byte {
	b = binary.AppendUvarint(b, uint64(p.Offset))
	b = binary.AppendUvarint(b, uint64(p.HeaderSize))
	b = binary.AppendUvarint(b, uint64(p.BodySize))
	b = binary.AppendUvarint(b, uint64(p.BodyLines))
	b = append(b, byte(p.Flags))
	b = appendStr(b, p.Type)
	b = appendStr(b, p.Subtype)
	b = appendParamList(b, p.Params)
	b = appendStr(b, p.ID)
	b = appendStr(b, p.Description)
	b = appendStr(b, p.Encoding)
	b = appendStr(b, p.Disposition)
	b = appendParamList(b, p.DispositionParams)
	b = binary.AppendUvarint(b, uint64(len(p.Language)))
	for _, l := range p.Language {
		b = appendStr(b, l)
	}
	b = appendStr(b, p.Location)
	b = appendStr(b, p.MD5)
	b = binary.AppendUvarint(b, uint64(len(p.Children)))
	for _, ch := range p.Children {
		b = appendPart(b, ch)
	}
	if p.Flags&PartMessage != 0 {
		if p.Message == nil {
			return append(b, 0)
		}
		b = append(b, 1)
		env := p.MessageEnvelope
		if env == nil {
			env = &Envelope{}
		}
		b = appendEnvelope(b, env)
		b = appendPart(b, p.Message)
	}
	return b
}

// Unmarshal decodes what Marshal encoded. It fails on an unknown version
// or a corrupt encoding, never panics.
func Unmarshal(data []byte) (*Parsed, error) {
	if len(data) == 0 {
		return nil, errCorrupt
	}
	if data[0] != encodingVersion {
		return nil, fmt.Errorf("message: unknown encoding version %d", data[0])
	}
	d := decoder{s: string(data), i: 1}
	p := &Parsed{}
	p.Size = int64(d.uint())
	p.Lines = int64(d.uint())
	nparts, naddrs, nparams, nlangs, nenvs, nrefs := d.count(), d.count(), d.count(), d.count(), d.count(), d.count()
	if d.err != nil {
		return nil, d.err
	}
	d.parts = make([]Part, nparts)
	d.addrs = make([]Address, naddrs)
	d.params = make([][2]string, nparams)
	d.langs = make([]string, nlangs)
	d.envs = make([]Envelope, nenvs)
	for _, s := range []*string{&p.Subject, &p.BaseSubject, &p.From, &p.To, &p.Cc, &p.FromDisplay, &p.ToDisplay, &p.MessageID, &p.InReplyTo, &p.Preview} {
		*s = d.str()
	}
	if d.byte() != 0 {
		sec := d.int()
		nsec := d.uint()
		off := d.int()
		if nsec >= 1e9 || off < -100000 || off > 100000 {
			return nil, errCorrupt
		}
		p.Date = time.Unix(sec, int64(nsec)).In(time.FixedZone("", int(off)))
	}
	if n := d.uint(); n > 0 {
		if int(n) != nrefs {
			return nil, errCorrupt
		}
		p.References = make([]string, n)
		for i := range p.References {
			p.References[i] = d.str()
		}
	}
	if e := d.envelope(); e != nil {
		p.Envelope = *e
	}
	p.Root = d.part(0)
	if d.err == nil && d.i != len(d.s) {
		d.err = errCorrupt
	}
	if d.err != nil {
		return nil, d.err
	}
	return p, nil
}

type decoder struct {
	s      string
	i      int
	err    error
	parts  []Part
	addrs  []Address
	params [][2]string
	langs  []string
	envs   []Envelope
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.i = len(d.s)
}

func (d *decoder) uint() uint64 {
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.i >= len(d.s) {
			d.fail()
			return 0
		}
		c := d.s[d.i]
		d.i++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	d.fail()
	return 0
}

func (d *decoder) int() int64 {
	u := d.uint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a count, which cannot exceed the bytes left.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.s)-d.i) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) byte() byte {
	if d.i >= len(d.s) {
		d.fail()
		return 0
	}
	d.i++
	return d.s[d.i-1]
}

func (d *decoder) str() string {
	n := d.uint()
	if n > uint64(len(d.s)-d.i) {
		d.fail()
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

func (d *decoder) addrList() []Address {
	n := d.count()
	if n == 0 {
		return nil
	}
	if n > len(d.addrs) {
		d.fail()
		return nil
	}
	list := d.addrs[:n:n]
	d.addrs = d.addrs[n:]
	for i := range list {
		a := &list[i]
		a.Name, a.Route, a.Mailbox, a.Host = d.str(), d.str(), d.str(), d.str()
	}
	return list
}

func (d *decoder) paramList() [][2]string {
	n := d.count()
	if n == 0 {
		return nil
	}
	if n > len(d.params) {
		d.fail()
		return nil
	}
	list := d.params[:n:n]
	d.params = d.params[n:]
	for i := range list {
		list[i] = [2]string{d.str(), d.str()}
	}
	return list
}

func (d *decoder) envelope() *Envelope {
	if len(d.envs) == 0 {
		d.fail()
		return nil
	}
	e := &d.envs[0]
	d.envs = d.envs[1:]
	e.Has = EnvelopeFields(d.byte())
	e.Date, e.Subject, e.InReplyTo, e.MessageID = d.str(), d.str(), d.str(), d.str()
	e.From, e.Sender, e.ReplyTo = d.addrList(), d.addrList(), d.addrList()
	e.To, e.Cc, e.Bcc = d.addrList(), d.addrList(), d.addrList()
	return e
}

func (d *decoder) part(depth int) *Part {
	if len(d.parts) == 0 || depth > 2*maxDepth+2 {
		d.fail()
		return &Part{}
	}
	p := &d.parts[0]
	d.parts = d.parts[1:]
	p.Offset = int64(d.uint())
	p.HeaderSize = int64(d.uint())
	p.BodyOffset = p.Offset + p.HeaderSize
	p.BodySize = int64(d.uint())
	p.BodyLines = int64(d.uint())
	p.Flags = PartFlags(d.byte())
	p.Type, p.Subtype = d.str(), d.str()
	p.Params = d.paramList()
	p.ID, p.Description, p.Encoding, p.Disposition = d.str(), d.str(), d.str(), d.str()
	p.DispositionParams = d.paramList()
	if n := d.count(); n > 0 {
		if n > len(d.langs) {
			d.fail()
			return p
		}
		p.Language = d.langs[:n:n]
		d.langs = d.langs[n:]
		for i := range p.Language {
			p.Language[i] = d.str()
		}
	}
	p.Location, p.MD5 = d.str(), d.str()
	if n := d.count(); n > 0 {
		p.Children = make([]*Part, n)
		for i := range p.Children {
			p.Children[i] = d.part(depth + 1)
			if d.err != nil {
				return p
			}
		}
	}
	if p.Flags&PartMessage != 0 && d.byte() == 1 {
		p.MessageEnvelope = d.envelope()
		if d.err != nil {
			return p
		}
		p.Message = d.part(depth + 1)
	}
	return p
}
