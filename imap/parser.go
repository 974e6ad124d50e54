package imap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on what a client controls.
const (
	// maxLine bounds one line of a command, literals excluded. RFC 7162
	// section 4 asks servers to accept lines of at least 8192 octets.
	maxLine = 64 << 10
	// maxLiteral bounds literals other than APPEND's message.
	maxLiteral = 1 << 20
	// maxDepth bounds parenthesis nesting (SEARCH programs, lists).
	maxDepth = 32
)

// errSyntax is a client mistake: the command gets a tagged BAD.
type errSyntax struct{ msg string }

func (e errSyntax) Error() string { return e.msg }

func syntaxf(format string, args ...any) error { return errSyntax{fmt.Sprintf(format, args...)} }

// errLineTooLong ends the command: the rest of the line is discarded.
var errLineTooLong = errSyntax{"line too long"}

// parser reads one command from the connection. It holds the current line
// and reads the next one after a literal, so that a command can span
// several lines. Literals are read on demand: as a bounded string, or as a
// stream (APPEND).
type parser struct {
	r    *bufio.Reader
	line []byte // current line, without CRLF
	pos  int
	// cont sends a continuation request before a synchronising literal.
	cont func(text string) error
	// literalPlus: LITERAL+ in effect (any size non-synchronising literal);
	// otherwise LITERAL- semantics: {n+} only up to 4096 (RFC 7888).
	literalPlus bool
	// pendingLiteral is set when the current line ended with {n} or {n+}
	// and the literal has not been read yet.
	pendingLiteral int64
	pendingSync    bool
	depth          int
}

// readLine reads the next line into p.line. A line over maxLine is an error
// after the rest of it has been discarded.
func (p *parser) readLine() error {
	var buf []byte
	for {
		chunk, err := p.r.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = p.r.ReadSlice('\n')
			}
			if err != nil {
				return err
			}
			p.line, p.pos = nil, 0
			return errLineTooLong
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		break
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	p.line, p.pos = buf, 0
	p.pendingLiteral = -1
	p.noteLiteral()
	return nil
}

// noteLiteral records whether the line ends with a literal announcement.
func (p *parser) noteLiteral() {
	l := p.line
	if len(l) < 3 || l[len(l)-1] != '}' {
		return
	}
	open := bytes.LastIndexByte(l, '{')
	if open < 0 {
		return
	}
	spec := l[open+1 : len(l)-1]
	spec = bytes.TrimPrefix(spec, []byte("~")) // literal8 (RFC 3516)
	sync := true
	if bytes.HasSuffix(spec, []byte("+")) {
		spec, sync = spec[:len(spec)-1], false
	}
	n, err := strconv.ParseInt(string(spec), 10, 64)
	if err != nil || n < 0 {
		return
	}
	p.pendingLiteral, p.pendingSync = n, sync
}

func (p *parser) atEOL() bool { return p.pos >= len(p.line) }

func (p *parser) peek() byte {
	if p.atEOL() {
		return 0
	}
	return p.line[p.pos]
}

// sp consumes one space.
func (p *parser) sp() error {
	if p.peek() != ' ' {
		return syntaxf("expected a space at %s", p.where())
	}
	p.pos++
	return nil
}

func (p *parser) where() string {
	if p.atEOL() {
		return "end of line"
	}
	rest := p.line[p.pos:]
	if len(rest) > 20 {
		rest = rest[:20]
	}
	return strconv.Quote(string(rest))
}

// maybeSP consumes a space if there is one.
func (p *parser) maybeSP() bool {
	if p.peek() == ' ' {
		p.pos++
		return true
	}
	return false
}

// end checks that the command is complete.
func (p *parser) end() error {
	if !p.atEOL() {
		return syntaxf("unexpected %s after the arguments", p.where())
	}
	return nil
}

// isAtomChar: ATOM-CHAR of RFC 9051 (no specials, no CTL, no space).
func isAtomChar(c byte) bool {
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return c > 0x1f && c < 0x7f
}

// atom reads an atom.
func (p *parser) atom() (string, error) {
	start := p.pos
	for !p.atEOL() && isAtomChar(p.line[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", syntaxf("expected an atom at %s", p.where())
	}
	return string(p.line[start:p.pos]), nil
}

// word reads characters up to a space, '(' ')' or end of line: for tags,
// command names, flags (which may start with a backslash), sequence sets.
func (p *parser) word(extra string) (string, error) {
	start := p.pos
	for !p.atEOL() {
		c := p.line[p.pos]
		if !isAtomChar(c) && !strings.ContainsRune(extra, rune(c)) {
			break
		}
		p.pos++
	}
	if p.pos == start {
		return "", syntaxf("expected a word at %s", p.where())
	}
	return string(p.line[start:p.pos]), nil
}

// quoted reads a quoted string (the opening quote is next).
func (p *parser) quoted() (string, error) {
	p.pos++
	var b strings.Builder
	for !p.atEOL() {
		c := p.line[p.pos]
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.atEOL() {
				return "", syntaxf("unterminated quoted string")
			}
			c = p.line[p.pos]
			if c != '"' && c != '\\' {
				return "", syntaxf("bad escape in quoted string")
			}
			p.pos++
		case '\r', '\n', 0:
			return "", syntaxf("bad character in quoted string")
		}
		b.WriteByte(c)
	}
	return "", syntaxf("unterminated quoted string")
}

// literalHeader parses "{n}" / "{n+}" / "~{n}" at the end of the line and
// returns n and whether the literal is literal8.
func (p *parser) literalHeader() (int64, bool, error) {
	binary := false
	if p.peek() == '~' {
		binary = true
		p.pos++
	}
	if p.peek() != '{' || p.pendingLiteral < 0 {
		return 0, false, syntaxf("expected a literal at %s", p.where())
	}
	// The announcement must end the line; noteLiteral parsed it.
	end := bytes.IndexByte(p.line[p.pos:], '}')
	if end < 0 || p.pos+end != len(p.line)-1 {
		return 0, false, syntaxf("a literal announcement must end the line")
	}
	n := p.pendingLiteral
	if !p.pendingSync && !p.literalPlus && n > 4096 {
		return 0, false, syntaxf("non-synchronizing literal over 4096 octets (LITERAL-)")
	}
	p.pos = len(p.line)
	return n, binary, nil
}

// startLiteral sends the continuation for a synchronising literal.
func (p *parser) startLiteral() error {
	if p.pendingSync {
		if err := p.cont("Ready for literal data"); err != nil {
			return err
		}
	}
	return nil
}

// literalString reads a literal of at most max bytes into memory.
func (p *parser) literalString(max int64) (string, error) {
	n, _, err := p.literalHeader()
	if err != nil {
		return "", err
	}
	if n > max {
		return "", syntaxf("literal of %d octets is too large (limit %d)", n, max)
	}
	if err := p.startLiteral(); err != nil {
		return "", err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(p.r, buf); err != nil {
		return "", err
	}
	return string(buf), p.readLine()
}

// literalStream returns a reader over a literal of n bytes; the caller must
// read it fully (or call discard) and then call afterLiteral.
func (p *parser) literalStream() (r io.Reader, n int64, binary bool, err error) {
	n, binary, err = p.literalHeader()
	if err != nil {
		return nil, 0, false, err
	}
	if err := p.startLiteral(); err != nil {
		return nil, 0, false, err
	}
	return io.LimitReader(p.r, n), n, binary, nil
}

// afterLiteral continues the command on the line after a streamed literal.
func (p *parser) afterLiteral(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return p.readLine()
}

// astring reads an atom, quoted string or literal (RFC 9051 astring; also
// accepts ']' in atoms as ASTRING-CHAR does).
func (p *parser) astring() (string, error) {
	switch p.peek() {
	case '"':
		return p.quoted()
	case '{':
		return p.literalString(maxLiteral)
	case '~':
		if p.pos+1 < len(p.line) && p.line[p.pos+1] == '{' {
			return p.literalString(maxLiteral)
		}
	}
	return p.word("]")
}

// nstring reads a string or NIL; ok is false for NIL.
func (p *parser) nstring() (s string, ok bool, err error) {
	switch p.peek() {
	case '"':
		s, err = p.quoted()
		return s, true, err
	case '{', '~':
		s, err = p.literalString(maxLiteral)
		return s, true, err
	}
	w, err := p.atom()
	if err != nil {
		return "", false, err
	}
	if !strings.EqualFold(w, "NIL") {
		return "", false, syntaxf("expected a string or NIL")
	}
	return "", false, nil
}

// stringArg reads a quoted string or literal (not an atom).
func (p *parser) stringArg() (string, error) {
	switch p.peek() {
	case '"':
		return p.quoted()
	case '{', '~':
		return p.literalString(maxLiteral)
	}
	return "", syntaxf("expected a string at %s", p.where())
}

// list parses "(" item *(SP item) ")", calling item for each; an empty
// list is allowed.
func (p *parser) list(item func() error) error {
	if p.peek() != '(' {
		return syntaxf("expected '(' at %s", p.where())
	}
	p.pos++
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return syntaxf("parentheses nested too deep")
	}
	if p.peek() == ')' {
		p.pos++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch p.peek() {
		case ' ':
			p.pos++
		case ')':
			p.pos++
			return nil
		default:
			return syntaxf("expected ' ' or ')' at %s", p.where())
		}
	}
}

// number reads a non-negative 32-bit number.
func (p *parser) number() (uint32, error) {
	n, err := p.number64()
	if err != nil || n > 1<<32-1 {
		return 0, syntaxf("expected a 32-bit number")
	}
	return uint32(n), nil
}

// number64 reads a non-negative number up to 2^63-1.
func (p *parser) number64() (uint64, error) {
	start := p.pos
	for !p.atEOL() && p.line[p.pos] >= '0' && p.line[p.pos] <= '9' {
		p.pos++
	}
	if start == p.pos {
		return 0, syntaxf("expected a number at %s", p.where())
	}
	n, err := strconv.ParseUint(string(p.line[start:p.pos]), 10, 63)
	if err != nil {
		return 0, syntaxf("number out of range")
	}
	return n, nil
}

// skipCommand discards what is left of a command after an error: the rest
// of the line and any non-synchronising literals the client sends anyway.
func (p *parser) skipCommand() error {
	for p.pendingLiteral >= 0 && !p.pendingSync {
		if _, err := io.CopyN(io.Discard, p.r, p.pendingLiteral); err != nil {
			return err
		}
		if err := p.readLine(); err != nil && err != errLineTooLong {
			return err
		}
	}
	p.pos = len(p.line)
	return nil
}
