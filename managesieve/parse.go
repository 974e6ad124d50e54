package managesieve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// arg is one argument of a command or of a SASL response: an atom (a
// command name, a number) or a string, quoted or literal.
type arg struct {
	s    string
	atom bool
}

// maxNumber is the largest number (RFC 5804 section 4: 0 to 4294967295).
const maxNumber = 1<<32 - 1

// syntaxError is a command that could not be parsed. The whole command has
// been read (literals included), so the session goes on after a NO.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

// tooBigError is a literal larger than what was left of the command's
// budget. It was read and dropped, with the rest of the command; args
// holds what came before it (the command name, for the reply).
type tooBigError struct {
	size int64
	args []arg
}

func (e *tooBigError) Error() string { return fmt.Sprintf("literal of %d octets is too big", e.size) }

// errTooLong ends the session: a line longer than the limit, or a literal
// too big to skip. Nothing after it can be trusted to be a command.
var errTooLong = errors.New("command too long")

// parser reads commands and SASL responses (RFC 5804 section 4).
type parser struct {
	br *bufio.Reader
	// maxLine bounds one line, its CRLF included.
	maxLine int
	// maxSkip bounds a literal that is over budget but read and dropped
	// so that the session can go on; a bigger one ends the session.
	maxSkip int64
	line    []byte
	left    int64 // octets left in the current command's budget
}

// readArgs reads one command, or one SASL response: arguments separated by
// spaces, up to the line end that follows the last literal. budget bounds
// the octets of the whole command, lines and literals together, and so
// the memory it takes.
//
// Literals are "{N+}" (literal-c2s, RFC 5804 section 4) and the octets
// follow at once: ManageSieve has no continuation request, so the server
// sends nothing. "{N}" is the server's form, but a client that sends it
// has nothing to wait for either and sends the octets at once; reading
// them as a literal, as Dovecot does, keeps them from being taken as
// commands.
func (p *parser) readArgs(budget int) ([]arg, error) {
	var args []arg
	p.left = int64(budget)
	first := true // the next fragment starts the command
	for {
		line, err := p.readLine()
		if err != nil {
			return nil, err
		}
		rest := line
		if !first && len(rest) > 0 && rest[0] != ' ' {
			return nil, p.skip(line, "Expected a space or the end of the line after a literal")
		}
		first = false
		var size int64
		var isLiteral bool
		for {
			rest = bytes.TrimLeft(rest, " ")
			if len(rest) == 0 {
				break
			}
			var a arg
			var msg string
			a, rest, size, isLiteral, msg = token(rest)
			if msg != "" {
				return nil, p.skip(line, msg)
			}
			if isLiteral {
				break
			}
			args = append(args, a)
			if len(rest) > 0 && rest[0] != ' ' {
				return nil, p.skip(line, "Expected a space between arguments")
			}
		}
		if !isLiteral {
			if len(args) == 0 {
				return nil, &syntaxError{"Empty command"}
			}
			return args, nil
		}
		if size > p.left {
			if err := p.discard(size); err != nil {
				return nil, err
			}
			if err := p.skipRest(); err != nil {
				return nil, err
			}
			return nil, &tooBigError{size: size, args: args}
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(p.br, buf); err != nil {
			return nil, err
		}
		p.left -= size
		args = append(args, arg{s: string(buf)})
	}
}

// token reads one argument at the start of b. A literal must end the
// line: its octets come next. msg says what is wrong, if anything.
func token(b []byte) (a arg, rest []byte, size int64, literal bool, msg string) {
	switch b[0] {
	case '"':
		var s []byte
		for i := 1; i < len(b); i++ {
			switch c := b[i]; c {
			case '"':
				return arg{s: string(s)}, b[i+1:], 0, false, ""
			case '\\':
				// QUOTED-SPECIALS: only " and \ may be escaped.
				if i+1 == len(b) || b[i+1] != '"' && b[i+1] != '\\' {
					return arg{}, nil, 0, false, `Only " and \ may follow \ in a quoted string`
				}
				i++
				s = append(s, b[i])
			case 0:
				return arg{}, nil, 0, false, "NUL in a quoted string"
			default:
				s = append(s, c)
			}
		}
		return arg{}, nil, 0, false, "Unterminated quoted string"
	case '{':
		n, ok := literalSize(b)
		if !ok {
			return arg{}, nil, 0, false, "Invalid literal: {N+} must end the line, N at most 4294967295"
		}
		return arg{}, nil, n, true, ""
	}
	i := 0
	for i < len(b) && b[i] != ' ' {
		if !isAtomChar(b[i]) {
			return arg{}, nil, 0, false, fmt.Sprintf("Unexpected character 0x%02x", b[i])
		}
		i++
	}
	return arg{s: string(b[:i]), atom: true}, b[i:], 0, false, ""
}

// literalSize parses "{N+}" or "{N}" when it is all of b.
func literalSize(b []byte) (int64, bool) {
	if len(b) < 3 || b[0] != '{' || b[len(b)-1] != '}' {
		return 0, false
	}
	digits := b[1 : len(b)-1]
	digits = bytes.TrimSuffix(digits, []byte("+"))
	n, ok := parseNumber(string(digits))
	return n, ok
}

// parseNumber reads a number: ASCII digits only, at most maxNumber.
func parseNumber(s string) (int64, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n <= maxNumber
}

// isAtomChar: printable ASCII but the characters that start or end
// strings, literals and lists.
func isAtomChar(c byte) bool {
	return c > ' ' && c < 0x7f && c != '"' && c != '{' && c != '}' && c != '(' && c != ')' && c != '\\'
}

// readLine reads one line and returns it without its line ending (CRLF, or
// a bare LF from a lax client), and charges it to the command's budget.
// The slice is valid until the next read.
func (p *parser) readLine() ([]byte, error) {
	p.line = p.line[:0]
	for {
		frag, err := p.br.ReadSlice('\n')
		if len(p.line)+len(frag) > p.maxLine {
			return nil, errTooLong
		}
		p.line = append(p.line, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if p.left -= int64(len(p.line)); p.left < 0 {
			return nil, errTooLong
		}
		line := bytes.TrimSuffix(p.line, []byte("\n"))
		return bytes.TrimSuffix(line, []byte("\r")), nil
	}
}

// skip reads past the rest of a command whose line did not parse: when the
// line ends with a literal, the client sends its octets anyway, and they
// must not be read as commands.
func (p *parser) skip(line []byte, msg string) error {
	for {
		n, ok := trailingLiteral(line)
		if !ok {
			return &syntaxError{msg}
		}
		if err := p.discard(n); err != nil {
			return err
		}
		var err error
		if line, err = p.readLine(); err != nil {
			return err
		}
	}
}

// skipRest reads past the lines (and literals) that follow a literal.
func (p *parser) skipRest() error {
	line, err := p.readLine()
	if err != nil {
		return err
	}
	var se *syntaxError
	if err := p.skip(line, ""); !errors.As(err, &se) {
		return err
	}
	return nil
}

// discard reads and drops n octets: within the command's budget, or past
// it when n is at most maxSkip.
func (p *parser) discard(n int64) error {
	switch {
	case n <= p.left:
		p.left -= n
	case n > p.maxSkip:
		return errTooLong
	}
	_, err := io.CopyN(io.Discard, p.br, n)
	return err
}

// trailingLiteral finds a literal header that ends line.
func trailingLiteral(line []byte) (int64, bool) {
	i := bytes.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	return literalSize(line[i:])
}
