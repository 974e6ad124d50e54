package sieve

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokenKind is the kind of a lexical token (RFC 5228 section 8.1).
type tokenKind int

const (
	tEOF tokenKind = iota
	tIdent
	tTag
	tNumber
	tString
	tLBracket
	tRBracket
	tLParen
	tRParen
	tLBrace
	tRBrace
	tComma
	tSemicolon
)

func (k tokenKind) String() string {
	switch k {
	case tEOF:
		return "end of script"
	case tIdent:
		return "identifier"
	case tTag:
		return "tag"
	case tNumber:
		return "number"
	case tString:
		return "string"
	case tLBracket:
		return "'['"
	case tRBracket:
		return "']'"
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tLBrace:
		return "'{'"
	case tRBrace:
		return "'}'"
	case tComma:
		return "','"
	case tSemicolon:
		return "';'"
	}
	return "token"
}

// Pos is a place in a script, 1-based.
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

type token struct {
	kind  tokenKind
	pos   Pos
	text  string // identifier or tag name (without ':'), string value
	num   uint64
	multi bool // string came from text: (multi-line)
}

// maxNumber bounds a number with its quantifier: Sieve numbers are
// unsigned 32-bit at least; Pigeonhole refuses anything above 2^63-1,
// we keep the RFC's floor and a sane ceiling.
const maxNumber = 1<<63 - 1

type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{l.line, l.col} }

func (l *lexer) errorf(p Pos, format string, args ...any) error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// advance moves past n bytes, counting lines and columns.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else if l.src[l.off]&0xC0 != 0x80 {
			l.col++
		}
		l.off++
	}
}

func (l *lexer) peekByte(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// skipSpace skips white space and comments.
func (l *lexer) skipSpace() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.advance(1)
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		case c == '/' && l.peekByte(1) == '*':
			start := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return l.errorf(start, "end of script reached inside a bracket comment")
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.off]
	single := map[byte]tokenKind{'[': tLBracket, ']': tRBracket, '(': tLParen, ')': tRParen,
		'{': tLBrace, '}': tRBrace, ',': tComma, ';': tSemicolon}
	if k, ok := single[c]; ok {
		l.advance(1)
		return token{kind: k, pos: p}, nil
	}
	switch {
	case c == ':':
		if !isAlpha(l.peekByte(1)) {
			return token{}, l.errorf(p, "missing identifier after ':'")
		}
		l.advance(1)
		return token{kind: tTag, pos: p, text: l.ident()}, nil
	case isAlpha(c):
		id := l.ident()
		if strings.EqualFold(id, "text") && l.peekByte(0) == ':' {
			l.advance(1)
			return l.multiline(p)
		}
		return token{kind: tIdent, pos: p, text: id}, nil
	case isDigit(c):
		return l.number(p)
	case c == '"':
		return l.quoted(p)
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return token{}, l.errorf(p, "unexpected character %q", r)
}

func (l *lexer) ident() string {
	start := l.off
	for l.off < len(l.src) && (isAlpha(l.src[l.off]) || isDigit(l.src[l.off])) {
		l.advance(1)
	}
	return l.src[start:l.off]
}

func (l *lexer) number(p Pos) (token, error) {
	var n uint64
	overflow := false
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		d := uint64(l.src[l.off] - '0')
		if n > (maxNumber-d)/10 {
			overflow = true
		}
		n = n*10 + d
		l.advance(1)
	}
	var mult uint64 = 1
	switch l.peekByte(0) {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	}
	if mult > 1 {
		l.advance(1)
		if n > maxNumber/mult {
			overflow = true
		}
		n *= mult
	}
	if overflow {
		return token{}, l.errorf(p, "number is too large")
	}
	if isAlpha(l.peekByte(0)) {
		return token{}, l.errorf(p, "unexpected character %q after number", l.peekByte(0))
	}
	return token{kind: tNumber, pos: p, num: n}, nil
}

// quoted reads a quoted string (RFC 5228 section 2.4.2): \" and \\ are
// escapes, any other backslash is dropped; line breaks inside become CRLF.
func (l *lexer) quoted(p Pos) (token, error) {
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return token{}, l.errorf(p, "end of script reached inside a quoted string")
		}
		c := l.src[l.off]
		switch c {
		case '"':
			l.advance(1)
			return token{kind: tString, pos: p, text: b.String()}, nil
		case '\\':
			if l.off+1 >= len(l.src) {
				return token{}, l.errorf(p, "end of script reached inside a quoted string")
			}
			l.advance(1)
			c = l.src[l.off]
			if c == '\r' || c == '\n' {
				continue // an escaped line break is still a line break: read it below
			}
			b.WriteByte(c)
			l.advance(1)
		case '\r':
			l.advance(1)
		case '\n':
			b.WriteString("\r\n")
			l.advance(1)
		case 0:
			return token{}, l.errorf(l.pos(), "NUL character in quoted string")
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

// multiline reads "text:" strings (RFC 5228 section 2.4.2): the rest of
// the line may hold only white space or a hash comment; then lines up to
// one holding a single ".", with a leading ".." unstuffed to ".".
func (l *lexer) multiline(p Pos) (token, error) {
	for l.off < len(l.src) && (l.src[l.off] == ' ' || l.src[l.off] == '\t') {
		l.advance(1)
	}
	switch {
	case l.peekByte(0) == '#':
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance(1)
		}
	case l.peekByte(0) == '\r' && l.peekByte(1) == '\n', l.peekByte(0) == '\n':
	default:
		return token{}, l.errorf(l.pos(), "invalid character after text: (only a comment may follow it on that line)")
	}
	for l.off < len(l.src) && l.src[l.off] != '\n' {
		l.advance(1)
	}
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return token{}, l.errorf(p, "end of script reached inside a multi-line string (missing '.' line)")
		}
		end := strings.IndexByte(l.src[l.off:], '\n')
		var line string
		if end < 0 {
			line = l.src[l.off:]
			end = len(line)
		} else {
			line = l.src[l.off : l.off+end]
		}
		line = strings.TrimSuffix(line, "\r")
		if strings.IndexByte(line, 0) >= 0 {
			return token{}, l.errorf(l.pos(), "NUL character in multi-line string")
		}
		l.advance(end + 1)
		if line == "." {
			return token{kind: tString, pos: p, text: b.String(), multi: true}, nil
		}
		if strings.HasPrefix(line, "..") {
			line = line[1:]
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
}
