package imaptest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// State is the state a script starts in (its "state:" header).
type State int

// The startup states, in the order imaptest walks through them: each state
// does the work of the states before it.
const (
	StateNonAuth  State = iota // connected, not logged in
	StateAuth                  // logged in, test mailboxes deleted
	StateCreated               // the test mailbox created
	StateAppended              // the messages appended
	StateSelected              // the mailbox selected on every connection
)

var stateNames = map[string]State{
	"nonauth":  StateNonAuth,
	"auth":     StateAuth,
	"created":  StateCreated,
	"appended": StateAppended,
	"selected": StateSelected,
}

func (s State) String() string {
	for k, v := range stateNames {
		if v == s {
			return k
		}
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// AllMessages is Script.Messages for "messages: all".
const AllMessages = -1

const maxConnections = 100

// Script is one parsed imaptest script.
type Script struct {
	Name string
	Path string
	// Mbox is the mbox file the script's messages come from: NAME.mbox
	// beside the script, else default.mbox.
	Mbox string

	Capabilities        []string // required capabilities
	Connections         int
	Messages            int // messages appended at startup; AllMessages for all
	State               State
	IgnoreExtraUntagged bool
	// Users maps a connection index (1-based) to the user it logs in as
	// ("user N: NAME" headers). "$user2" asks for a second account.
	Users map[int]string

	bannerCheck bool
	groups      []*group
}

// existence says whether an expected untagged line must, must not or may
// appear ("*", "!", "?").
type existence int

const (
	mustExist existence = iota
	mustNotExist
	mayExist
)

func (e existence) String() string {
	switch e {
	case mustNotExist:
		return "!"
	case mayExist:
		return "?"
	}
	return "*"
}

type untaggedPattern struct {
	existence existence
	args      []arg
	text      string // as written in the script (literals expanded)
}

type command struct {
	line  int
	tag   int    // the script's tagN, 0 without one
	text  []byte // the command as written, literals as {N}\r\n + data
	reply []arg  // expected tagged reply (matched as a prefix)
}

// group is a set of commands sent together on one connection, with the
// untagged replies expected while they run.
type group struct {
	line     int
	conn     int // 0-based connection index
	commands []*command
	untagged []untaggedPattern
	ordered  bool // "!ordered": untagged replies must come in order
	haveBye  bool // an untagged BYE is expected
	sleep    time.Duration
	output   []string
	pending  int // replies still to be parsed (parser only)
	implicit bool
}

// LoadScripts parses every script in dir (the imaptest "tests" folder),
// sorted by name. Subfolders (such as broken/) and .mbox files are not
// scripts. env answers !ifenv/!ifnenv; nil means the process environment.
func LoadScripts(dir string, env func(string) (string, bool)) ([]*Script, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".mbox") || e.IsDir() {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var scripts []*Script
	for _, n := range names {
		s, err := ParseScriptFile(filepath.Join(dir, n), env)
		if err != nil {
			return nil, err
		}
		scripts = append(scripts, s)
	}
	return scripts, nil
}

// ParseScriptFile parses one script file; its mbox is NAME.mbox beside it,
// else default.mbox in the same folder.
func ParseScriptFile(path string, env func(string) (string, bool)) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	mbox := path + ".mbox"
	if _, err := os.Stat(mbox); err != nil {
		mbox = filepath.Join(filepath.Dir(path), "default.mbox")
	}
	s, err := ParseScript(filepath.Base(path), data, env)
	if err != nil {
		return nil, err
	}
	s.Path = path
	s.Mbox = mbox
	return s, nil
}

// ParseScript parses a script's text, following the rules of imaptest's
// test parser.
func ParseScript(name string, data []byte, env func(string) (string, bool)) (*Script, error) {
	if env == nil {
		env = os.LookupEnv
	}
	s := &Script{
		Name:                name,
		Connections:         1,
		State:               StateSelected,
		IgnoreExtraUntagged: true,
		Users:               map[int]string{},
	}
	p := &scriptParser{s: s, env: env}
	if err := p.parse(data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

type ifenv struct {
	line     int
	elseSeen bool
	skip     bool
}

type scriptParser struct {
	s      *Script
	env    func(string) (string, bool)
	cur    *group
	ifenvs []ifenv
	skip   bool
}

func (p *scriptParser) parse(data []byte) error {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return fmt.Errorf("last line doesn't end with LF")
	}
	lines := bytes.Split(data, []byte("\n"))
	lines = lines[:len(lines)-1] // after the final LF
	header := true
	continues, binary := false, false
	var multi []byte
	startPos, lastLineEnd, startLine := 0, 0, 0
	for i, raw := range lines {
		linenum := i + 1
		line := raw
		if continues {
			if !bytes.HasPrefix(line, []byte("}}}")) {
				multi = append(multi, line...)
				lastLineEnd = len(multi)
				if binary {
					multi = append(multi, '\n')
				} else {
					multi = append(multi, '\r', '\n')
				}
				continue
			}
			multi = multi[:lastLineEnd]
			rest := line[3:]
			hdr := fmt.Sprintf("{%d}\r\n", len(multi)-startPos)
			if binary {
				hdr = "~" + hdr
			}
			multi = append(multi[:startPos], append([]byte(hdr), multi[startPos:]...)...)
			if bytes.HasSuffix(rest, []byte("{{{")) {
				n := len(rest) - 3
				binary = n > 0 && rest[n-1] == '~'
				if binary {
					n--
				}
				multi = append(multi, rest[:n]...)
				startPos, lastLineEnd = len(multi), len(multi)
				continue
			}
			multi = append(multi, rest...)
			line = multi
			continues = false
		} else {
			startLine = linenum
			if len(line) == 0 {
				header = false
				continue
			}
			if line[0] == '#' {
				continue
			}
			if bytes.HasSuffix(line, []byte("{{{")) {
				n := len(line) - 3
				binary = n > 0 && line[n-1] == '~'
				if binary {
					n--
				}
				multi = append([]byte(nil), line[:n]...)
				startPos, lastLineEnd = len(multi), len(multi)
				continues = true
				continue
			}
		}
		var err error
		if header {
			err = p.headerLine(string(line))
		} else {
			err = p.commandLine(startLine, line)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", linenum, err)
		}
	}
	if continues {
		return fmt.Errorf("multiline reply at line %d not ended", startLine)
	}
	if p.cur == nil {
		return fmt.Errorf("no commands in file")
	}
	if p.cur.pending > 0 {
		for _, c := range p.cur.commands {
			if c.reply == nil {
				return fmt.Errorf("missing reply for the command at line %d", c.line)
			}
		}
	}
	if len(p.ifenvs) > 0 {
		return fmt.Errorf("!ifenv at line %d not closed with !endif", p.ifenvs[0].line)
	}
	p.addLogout()
	return nil
}

func (p *scriptParser) headerLine(line string) error {
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		return fmt.Errorf("missing ':' in header")
	}
	key := strings.ToLower(strings.TrimRight(line[:colon], " "))
	value := strings.TrimLeft(line[colon+1:], " ")
	s := p.s
	switch {
	case key == "capabilities":
		s.Capabilities = strings.Fields(value)
	case key == "connections":
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 || n > maxConnections {
			return fmt.Errorf("bad connection count %q", value)
		}
		s.Connections = n
	case key == "ignore_extra_untagged":
		s.IgnoreExtraUntagged = strings.HasPrefix(value, "y")
	case strings.HasPrefix(key, "user "):
		n, err := strconv.Atoi(key[5:])
		if err != nil || n <= 0 || n > maxConnections {
			return fmt.Errorf("bad header %q", key)
		}
		s.Users[n] = value
	case key == "messages":
		if value == "all" {
			s.Messages = AllMessages
		} else {
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return fmt.Errorf("bad message count %q", value)
			}
			s.Messages = n
		}
	case key == "state":
		st, ok := stateNames[strings.ToLower(value)]
		if !ok {
			return fmt.Errorf("unknown state %q", value)
		}
		s.State = st
	default:
		return fmt.Errorf("unknown header %q", key)
	}
	return nil
}

// cutWord returns the text before the first space and the text after it.
func cutWord(b []byte) (word, rest []byte, found bool) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil, false
	}
	return b[:i], b[i+1:], true
}

// positiveInt parses a decimal number > 0 (digits only).
func positiveInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

// cmdReply splits an optional "tagN" and an optional expected status (ok, no,
// bad or "") off the front of a line.
func cmdReply(line []byte) (tag int, reply []arg, rest []byte) {
	rest = line
	word, after, found := cutWord(rest)
	if len(word) > 3 && strings.EqualFold(string(word[:3]), "tag") && found {
		if n, ok := positiveInt(word[3:]); ok {
			tag = n
			rest = after
			word, after, found = cutWord(rest)
		}
	}
	var status string
	switch strings.ToLower(string(word)) {
	case "ok", "no", "bad":
		status = strings.ToLower(string(word))
	case `""`:
		status = ""
	default:
		return tag, nil, rest
	}
	_ = found
	return tag, []arg{{kind: argAtom, s: status}}, after
}

func untaggedKind(line []byte) (existence, bool) {
	if len(line) < 2 || line[1] != ' ' {
		return 0, false
	}
	switch line[0] {
	case '*':
		return mustExist, true
	case '!':
		return mustNotExist, true
	case '?':
		return mayExist, true
	}
	return 0, false
}

func (p *scriptParser) commandLine(linenum int, line []byte) error {
	s := p.s
	str := string(line)
	switch {
	case strings.HasPrefix(str, "!ifenv "), strings.HasPrefix(str, "!ifnenv "):
		name := str[strings.IndexByte(str, ' ')+1:]
		_, set := p.env(name)
		skipThis := !set
		if strings.HasPrefix(str, "!ifnenv ") {
			skipThis = set
		}
		p.ifenvs = append(p.ifenvs, ifenv{line: linenum, skip: p.skip})
		if skipThis {
			p.skip = true
		}
		return nil
	case str == "!else":
		if len(p.ifenvs) == 0 {
			return fmt.Errorf("!else without !ifenv")
		}
		top := &p.ifenvs[len(p.ifenvs)-1]
		if top.elseSeen {
			return fmt.Errorf("!else already seen")
		}
		top.elseSeen = true
		if !top.skip {
			p.skip = !p.skip
		}
		return nil
	case str == "!endif":
		if len(p.ifenvs) == 0 {
			return fmt.Errorf("!endif without !ifenv")
		}
		p.skip = p.ifenvs[len(p.ifenvs)-1].skip
		p.ifenvs = p.ifenvs[:len(p.ifenvs)-1]
		return nil
	}
	if p.skip {
		return nil
	}

	g := p.cur
	if g != nil {
		switch {
		case strings.HasPrefix(str, "!sleep "):
			d, err := parseInterval(str[7:])
			if err != nil {
				return fmt.Errorf("invalid !sleep value %q: %w", str[7:], err)
			}
			g.sleep = d
			return nil
		case strings.HasPrefix(str, "!output "):
			g.output = append(g.output, str[8:])
			return nil
		case str == "!ordered":
			g.ordered = true
			return nil
		}
		if e, ok := untaggedKind(line); ok {
			return p.untagged(g, line[2:], e)
		}
		if g.pending > 0 {
			noConn := line
			replyConn := 0
			if s.Connections > 1 {
				if w, after, _ := cutWord(line); len(w) > 0 {
					if n, ok := positiveInt(w); ok {
						replyConn = n
						noConn = after
					}
				}
			}
			if tag, reply, _ := cmdReply(noConn); reply != nil {
				if s.Connections > 1 {
					if replyConn == 0 {
						return fmt.Errorf("missing client index")
					}
					if replyConn-1 != g.conn {
						return fmt.Errorf("reply for wrong connection")
					}
				}
				return p.finishCommand(g, tag, noConn)
			}
		}
	}

	if g == nil || g.pending == 0 {
		g = &group{line: linenum}
		p.cur = g
		s.groups = append(s.groups, g)
	}
	cmd := &command{line: linenum}
	if s.Connections > 1 {
		w, after, _ := cutWord(line)
		n, ok := positiveInt(w)
		if !ok {
			return fmt.Errorf("missing client index")
		}
		if n > maxConnections {
			return fmt.Errorf("too many connections")
		}
		if len(g.commands) > 0 && g.conn != n-1 {
			return fmt.Errorf("all pipelined commands must use the same connection")
		}
		g.conn = n - 1
		if n > s.Connections {
			s.Connections = n
		}
		line = after
	}
	tag, reply, rest := cmdReply(line)
	cmd.tag, cmd.reply = tag, reply
	if tag == 0 {
		if g.pending > 0 {
			return fmt.Errorf("missing reply from previous command group")
		}
	} else {
		for _, c := range g.commands {
			if c.tag == tag {
				return fmt.Errorf("tag reused within command group")
			}
		}
	}
	if len(g.commands) == 0 {
		if e, ok := untaggedKind(rest); ok {
			s.bannerCheck = true
			return p.untagged(g, rest[2:], e)
		}
	}
	if reply == nil {
		g.pending++
	}
	cmd.text = append([]byte(nil), rest...)
	g.commands = append(g.commands, cmd)
	return nil
}

// finishCommand records the expected reply line for the command with the
// given script tag.
func (p *scriptParser) finishCommand(g *group, tag int, line []byte) error {
	var cmd *command
	for _, c := range g.commands {
		if c.tag == tag {
			cmd = c
			break
		}
	}
	if cmd == nil {
		return fmt.Errorf("reply for unknown tag")
	}
	if cmd.reply != nil {
		return fmt.Errorf("command already has a reply")
	}
	args, err := parseArgs(line, 0)
	if err != nil {
		return err
	}
	if tag != 0 {
		if len(args) == 0 {
			return fmt.Errorf("empty reply")
		}
		args = args[1:]
	}
	cmd.reply = args
	g.pending--
	return nil
}

func (p *scriptParser) untagged(g *group, line []byte, e existence) error {
	args, name, err := parsePattern(line)
	if err != nil {
		return err
	}
	if len(name) >= 3 && strings.EqualFold(name[:3], "BYE") {
		switch e {
		case mustExist:
			g.haveBye = true
		case mayExist:
			return fmt.Errorf("? BYE not supported")
		}
	}
	g.untagged = append(g.untagged, untaggedPattern{existence: e, args: args, text: string(line)})
	return nil
}

// parsePattern parses an expected untagged reply (after "* ") and gives its
// lists their directives. name is the reply's name (FETCH for "3 FETCH …").
func parsePattern(line []byte) (args []arg, name string, err error) {
	args, err = parseArgs(line, 0)
	if err != nil {
		return nil, "", err
	}
	if len(args) > 0 {
		if a, ok := args[0].atom(); ok {
			name = a
			if a != "" && (a[0] == '$' || (a[0] >= '0' && a[0] <= '9')) {
				name = ""
				if len(args) > 1 {
					if b, ok := args[1].atom(); ok {
						name = b
					}
				}
			}
		}
	}
	top := &directiveCtx{replyName: name, chainCount: 1}
	args, err = handleDirectives(top, args)
	return args, name, err
}

// directiveCtx follows imaptest's list_directives_context: where a list sits
// decides which default $! directives it gets.
type directiveCtx struct {
	parent      *directiveCtx
	replyName   string // the reply's name (FETCH, LIST, …)
	prevAtom    string // the last atom before this list, lower-cased
	parentChain int    // this list's index (or index within its chain) in the parent
	chainCount  int
	directives  bool // $! directives were written for this list
}

// handleDirectives validates the $! directives at the front of args, adds the
// defaults where none were written, and recurses into sublists. It returns
// the (possibly extended) list.
func handleDirectives(ctx *directiveCtx, args []arg) ([]arg, error) {
	for i := 0; i < len(args); i++ {
		a, ok := args[i].atom()
		if !ok || !strings.HasPrefix(a, "$!") {
			break
		}
		d := a[2:]
		switch {
		case strings.HasPrefix(d, "unordered"):
			if d != "unordered" {
				n, err := strconv.Atoi(strings.TrimPrefix(d, "unordered="))
				if !strings.HasPrefix(d, "unordered=") || err != nil || n <= 0 {
					return nil, fmt.Errorf("broken $!unordered directive")
				}
				ctx.chainCount = n
			}
		case d == "ordered", d == "noextra", d == "extra",
			strings.HasPrefix(d, "ignore="), strings.HasPrefix(d, "ban="):
		default:
			return nil, fmt.Errorf("unknown directive: %s", d)
		}
		ctx.directives = true
	}
	if !ctx.directives {
		args = addDefaultDirectives(ctx, args)
	}
	ndir := 0
	for ndir < len(args) {
		a, ok := args[ndir].atom()
		if !ok || !strings.HasPrefix(a, "$!") {
			break
		}
		ndir++
	}
	if (len(args)-ndir)%ctx.chainCount != 0 {
		return nil, fmt.Errorf("invalid list argument count, chain size=%d", ctx.chainCount)
	}
	prevAtom := ""
	for i := range args {
		if a, ok := args[i].atom(); ok {
			prevAtom = strings.ToLower(a)
		}
		if args[i].kind != argList {
			continue
		}
		sub := &directiveCtx{
			parent:     ctx,
			replyName:  strings.ToLower(ctx.replyName),
			prevAtom:   prevAtom,
			chainCount: 1,
		}
		if ctx.chainCount == 1 {
			sub.parentChain = i
		} else {
			sub.parentChain = i % ctx.chainCount
		}
		l, err := handleDirectives(sub, args[i].list)
		if err != nil {
			return nil, err
		}
		args[i].list = l
	}
	return args, nil
}

func directiveArgs(ds ...string) []arg {
	out := make([]arg, len(ds))
	for i, d := range ds {
		out[i] = arg{kind: argAtom, s: d}
	}
	return out
}

// addDefaultDirectives gives a list without directives imaptest's defaults:
// LIST/LSUB flags unordered, STATUS items and FETCH items unordered in pairs,
// FETCH FLAGS unordered with nothing extra but \Recent and the attachment
// keywords.
func addDefaultDirectives(ctx *directiveCtx, args []arg) []arg {
	if ctx.parent == nil {
		return args
	}
	var add []arg
	top := ctx.parent.parent == nil && ctx.parent.parentChain == 0
	switch ctx.replyName {
	case "list", "lsub":
		if top && ctx.parentChain == 1 {
			add = directiveArgs("$!unordered")
		}
	case "status":
		if top && ctx.parentChain == 2 {
			add = directiveArgs("$!unordered=2")
		}
	case "fetch":
		if top && ctx.parentChain == 2 {
			add = directiveArgs("$!unordered=2")
		} else if pp := ctx.parent.parent; pp != nil && pp.parent == nil &&
			pp.parentChain == 0 && ctx.parent.parentChain == 2 &&
			ctx.prevAtom == "flags" {
			add = directiveArgs("$!unordered", "$!noextra", `$!ignore=\recent`,
				"$!ignore=$HasAttachment", "$!ignore=$HasNoAttachment")
		}
	}
	if add == nil {
		return args
	}
	return append(add, args...)
}

func parseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		// A bare number is read as milliseconds.
		return time.Duration(n) * time.Millisecond, nil
	}
	return time.ParseDuration(strings.ReplaceAll(s, " ", ""))
}

// addLogout appends imaptest's implicit LOGOUT on the first connection when
// the script never logs out nor expects a BYE.
func (p *scriptParser) addLogout() {
	for _, g := range p.s.groups {
		if g.haveBye {
			return
		}
		for _, c := range g.commands {
			if strings.EqualFold(string(c.text), "logout") {
				return
			}
		}
	}
	p.s.groups = append(p.s.groups, &group{
		conn:     0,
		implicit: true,
		commands: []*command{{text: []byte("logout"), reply: []arg{{kind: argAtom, s: "ok"}}}},
	})
}
