package imaptest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// argKind is the type of one IMAP argument, as imaptest's parser sees it.
type argKind int

const (
	argAtom argKind = iota
	argString
	argLiteral
	argNIL
	argList
)

// arg is one parsed IMAP argument: an atom, a quoted string, a literal, NIL or
// a parenthesised list. The same parser reads the scripts' expected replies and
// the server's responses, so both sides are tokenised alike.
type arg struct {
	kind argKind
	s    string // atom, string or literal content
	list []arg  // for argList
}

// astring returns the text of an atom, string or literal; ok is false for NIL
// and lists.
func (a *arg) astring() (string, bool) {
	switch a.kind {
	case argAtom, argString, argLiteral:
		return a.s, true
	}
	return "", false
}

// atom returns the text of an atom.
func (a *arg) atom() (string, bool) {
	if a.kind == argAtom {
		return a.s, true
	}
	return "", false
}

// parseFlags select the parser's tolerance.
type parseFlags int

const (
	// parseLenient accepts what human-readable response text may contain:
	// a ')' with no list open is part of an atom, an unclosed list or quote
	// ends with the line.
	parseLenient parseFlags = 1 << iota
)

var errNeedMore = errors.New("incomplete input")

// parseArgs parses a whole line of IMAP arguments (literals inline as
// "{N}\r\n" followed by N bytes, "~{N}" for literal8). Atoms end at a space,
// at CR or LF, and at ')' inside a list; every other byte may be part of an
// atom, as with Dovecot's IMAP_PARSE_FLAG_ATOM_ALLCHARS. An atom spelt NIL
// (any case) is NIL.
func parseArgs(b []byte, flags parseFlags) ([]arg, error) {
	p := &argParser{b: b, flags: flags}
	args, err := p.parseList(0)
	if err != nil {
		return nil, err
	}
	return args, nil
}

type argParser struct {
	b     []byte
	i     int
	flags parseFlags
}

func (p *argParser) lenient() bool { return p.flags&parseLenient != 0 }

// parseList reads arguments until the end of input (depth 0) or the ')'
// closing the current list (depth > 0).
func (p *argParser) parseList(depth int) ([]arg, error) {
	args := []arg{}
	for {
		for p.i < len(p.b) && p.b[p.i] == ' ' {
			p.i++
		}
		if p.i >= len(p.b) || p.b[p.i] == '\r' || p.b[p.i] == '\n' {
			if depth > 0 && !p.lenient() {
				return nil, fmt.Errorf("missing ')' at end of line")
			}
			// Skip a trailing line break so the caller sees the end.
			p.i = len(p.b)
			return args, nil
		}
		c := p.b[p.i]
		switch {
		case c == '(':
			p.i++
			sub, err := p.parseList(depth + 1)
			if err != nil {
				return nil, err
			}
			args = append(args, arg{kind: argList, list: sub})
		case c == ')':
			if depth > 0 {
				p.i++
				return args, nil
			}
			if !p.lenient() {
				return nil, fmt.Errorf("unexpected ')' at offset %d", p.i)
			}
			args = append(args, p.parseAtom(depth))
		case c == '"':
			s, err := p.parseQuoted()
			if err != nil {
				return nil, err
			}
			args = append(args, arg{kind: argString, s: s})
		case c == '{' || (c == '~' && p.i+1 < len(p.b) && p.b[p.i+1] == '{'):
			if c == '~' {
				p.i++
			}
			s, err := p.parseLiteral()
			if err != nil {
				if p.lenient() {
					args = append(args, p.parseAtom(depth))
					continue
				}
				return nil, err
			}
			args = append(args, arg{kind: argLiteral, s: s})
		default:
			args = append(args, p.parseAtom(depth))
		}
	}
}

func (p *argParser) parseAtom(depth int) arg {
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == ' ' || c == '\r' || c == '\n' {
			break
		}
		if c == ')' && depth > 0 && p.i > start {
			break
		}
		p.i++
	}
	s := string(p.b[start:p.i])
	if strings.EqualFold(s, "NIL") {
		return arg{kind: argNIL, s: s}
	}
	return arg{kind: argAtom, s: s}
}

func (p *argParser) parseQuoted() (string, error) {
	p.i++ // opening quote
	var sb strings.Builder
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch c {
		case '"':
			p.i++
			return sb.String(), nil
		case '\\':
			if p.i+1 < len(p.b) {
				sb.WriteByte(p.b[p.i+1])
				p.i += 2
				continue
			}
		}
		sb.WriteByte(c)
		p.i++
	}
	if p.lenient() {
		return sb.String(), nil
	}
	return "", fmt.Errorf("unterminated quoted string")
}

// parseLiteral reads "{N}" or "{N+}" then CRLF (or LF) and N bytes.
func (p *argParser) parseLiteral() (string, error) {
	start := p.i
	end := p.i + 1
	for end < len(p.b) && p.b[end] != '}' {
		end++
	}
	if end >= len(p.b) {
		return "", fmt.Errorf("unterminated literal size at offset %d", start)
	}
	num := strings.TrimSuffix(string(p.b[start+1:end]), "+")
	n, err := strconv.ParseUint(num, 10, 31)
	if err != nil {
		return "", fmt.Errorf("bad literal size %q", p.b[start:end+1])
	}
	i := end + 1
	if i < len(p.b) && p.b[i] == '\r' {
		i++
	}
	if i >= len(p.b) || p.b[i] != '\n' {
		return "", fmt.Errorf("literal size %q not followed by a line break", p.b[start:end+1])
	}
	i++
	if i+int(n) > len(p.b) {
		return "", errNeedMore
	}
	p.i = i + int(n)
	return string(p.b[i:p.i]), nil
}

// formatArgs renders arguments back to IMAP-like text for messages: strings
// quoted, literals shown as {N} with their text when short and printable.
func formatArgs(args []arg) string {
	var sb strings.Builder
	writeArgs(&sb, args)
	return sb.String()
}

func writeArgs(sb *strings.Builder, args []arg) {
	for i := range args {
		if i > 0 {
			sb.WriteByte(' ')
		}
		a := &args[i]
		switch a.kind {
		case argAtom:
			sb.WriteString(a.s)
		case argNIL:
			sb.WriteString("NIL")
		case argString:
			sb.WriteString(strconv.Quote(a.s))
		case argLiteral:
			fmt.Fprintf(sb, "{%d}%s", len(a.s), strconv.Quote(a.s))
		case argList:
			sb.WriteByte('(')
			writeArgs(sb, a.list)
			sb.WriteByte(')')
		}
	}
}
