package sieve

import (
	"fmt"
	"strings"
)

// The generic syntax tree (RFC 5228 section 8.2). The grammar is the same
// for every command; what a command accepts is checked by the validator.

type argument struct {
	pos     Pos
	tag     string // tagged argument (without ':'), or ""
	num     uint64 // number argument
	isNum   bool
	strs    []string // string or string list
	isList  bool     // written as [ ... ]
	strPos  []Pos
	isMulti bool // a single text: string
}

func (a *argument) isString() bool { return a.tag == "" && !a.isNum }

func (a *argument) describe() string {
	switch {
	case a.tag != "":
		return "tag ':" + a.tag + "'"
	case a.isNum:
		return "number"
	case a.isList:
		return "string list"
	}
	return "string"
}

type node struct {
	pos   Pos
	name  string // lower case
	args  []*argument
	tests []*node
	// block is nil for a command without a block; commands with an empty
	// block get a non-nil empty slice.
	block    []*node
	hasBlock bool
}

type parser struct {
	lx       *lexer
	tok      token
	depth    int
	maxDepth int
}

// parse turns src into the generic tree of its top-level commands.
func parse(src string, maxDepth int) ([]*node, error) {
	p := &parser{lx: newLexer(src), maxDepth: maxDepth}
	if err := p.advance(); err != nil {
		return nil, err
	}
	cmds, err := p.commands()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errorf("unexpected %s; expected a command", p.tok.kind)
	}
	return cmds, nil
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	p.tok = t
	return err
}

func (p *parser) errorf(format string, args ...any) error {
	return &Error{Pos: p.tok.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) commands() ([]*node, error) {
	var out []*node
	for p.tok.kind == tIdent {
		c, err := p.command()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.maxDepth {
		return p.errorf("nesting is too deep (limit %d)", p.maxDepth)
	}
	return nil
}

func (p *parser) command() (*node, error) {
	n := &node{pos: p.tok.pos, name: strings.ToLower(p.tok.text)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.arguments(n); err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tSemicolon:
		return n, p.advance()
	case tLBrace:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		block, err := p.commands()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRBrace {
			return nil, p.errorf("unexpected %s in block of %s command; expected a command or '}'", p.tok.kind, n.name)
		}
		p.depth--
		if block == nil {
			block = []*node{}
		}
		n.block, n.hasBlock = block, true
		return n, p.advance()
	}
	return nil, p.errorf("unexpected %s after arguments of %s command; expected ';' or '{'", p.tok.kind, n.name)
}

// arguments reads `*argument [test / test-list]` into n.
func (p *parser) arguments(n *node) error {
	for {
		switch p.tok.kind {
		case tTag:
			n.args = append(n.args, &argument{pos: p.tok.pos, tag: strings.ToLower(p.tok.text)})
		case tNumber:
			n.args = append(n.args, &argument{pos: p.tok.pos, num: p.tok.num, isNum: true})
		case tString:
			n.args = append(n.args, &argument{pos: p.tok.pos, strs: []string{p.tok.text}, strPos: []Pos{p.tok.pos}, isMulti: p.tok.multi})
		case tLBracket:
			a, err := p.stringList()
			if err != nil {
				return err
			}
			n.args = append(n.args, a)
			continue
		default:
			goto tests
		}
		if err := p.advance(); err != nil {
			return err
		}
	}
tests:
	switch p.tok.kind {
	case tIdent:
		t, err := p.test()
		if err != nil {
			return err
		}
		n.tests = []*node{t}
	case tLParen:
		if err := p.enter(); err != nil {
			return err
		}
		if err := p.advance(); err != nil {
			return err
		}
		for {
			if p.tok.kind != tIdent {
				return p.errorf("unexpected %s in test list; expected a test", p.tok.kind)
			}
			t, err := p.test()
			if err != nil {
				return err
			}
			n.tests = append(n.tests, t)
			if p.tok.kind == tRParen {
				break
			}
			if p.tok.kind != tComma {
				return p.errorf("unexpected %s in test list; expected ',' or ')'", p.tok.kind)
			}
			if err := p.advance(); err != nil {
				return err
			}
		}
		p.depth--
		return p.advance()
	}
	return nil
}

func (p *parser) test() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	n := &node{pos: p.tok.pos, name: strings.ToLower(p.tok.text)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.arguments(n); err != nil {
		return nil, err
	}
	p.depth--
	return n, nil
}

func (p *parser) stringList() (*argument, error) {
	a := &argument{pos: p.tok.pos, isList: true}
	if err := p.advance(); err != nil {
		return nil, err
	}
	for {
		if p.tok.kind != tString {
			return nil, p.errorf("unexpected %s in string list; expected a string", p.tok.kind)
		}
		a.strs = append(a.strs, p.tok.text)
		a.strPos = append(a.strPos, p.tok.pos)
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tRBracket {
			return a, p.advance()
		}
		if p.tok.kind != tComma {
			return nil, p.errorf("unexpected %s in string list; expected ',' or ']'", p.tok.kind)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
}
