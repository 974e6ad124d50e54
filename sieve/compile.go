package sieve

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// argType is what a positional argument or a tag's parameter must be.
type argType int

const (
	aNone       argType = iota
	aNumber             // 123, 10K
	aString             // one string, not a list
	aStringList         // a string list; a single string counts as a list of one
)

func (t argType) String() string {
	switch t {
	case aNumber:
		return "number"
	case aString:
		return "string"
	case aStringList:
		return "string list"
	}
	return "nothing"
}

// tagDef describes one tagged argument a command accepts.
type tagDef struct {
	name  string  // without ':'
	ext   string  // extension that must be required; "" for the base language
	param argType // aNone when the tag stands alone
	group string  // tags of one group exclude each other; "" for itself
}

// cmdDef describes a command or a test: its arguments and how to build
// its compiled form.
type cmdDef struct {
	name   string
	ext    string // extension that must be required
	isTest bool
	tags   []tagDef
	pos    []argType // positional arguments, in order
	minPos int       // the first minPos positional arguments are required; -1: all
	tests  int       // 0: no test; 1: one test; -1: a test list
	block  bool      // takes a block
	// build turns validated arguments into a command (isTest false:
	// command) or a test (isTest true: test).
	build func(c *compiler, a *args) (any, error)
	// enter, when set, runs before the block is compiled; the function it
	// returns runs after (foreverypart tracks the loops around break so).
	enter func(c *compiler, a *args) (leave func(), err error)
}

var (
	registryMu sync.RWMutex
	commands   = map[string]*cmdDef{} // by name; tests in their own map
	tests      = map[string]*cmdDef{}
	extensions = map[string]*extDef{}
)

// extDef is an extension that can be required.
type extDef struct {
	name string
	// hidden extensions are not advertised (test-only, deprecated
	// aliases).
	hidden bool
	// implies lists extensions this one makes available too (e.g.
	// spamtestplus brings spamtest's test).
	implies []string
	// needs lists extensions that must be required with this one (RFC
	// 5703 section 7: extracttext needs variables and foreverypart).
	needs []string
}

func registerExtension(e *extDef) {
	registryMu.Lock()
	defer registryMu.Unlock()
	extensions[e.name] = e
}

func register(d *cmdDef) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if d.minPos < 0 {
		d.minPos = len(d.pos)
	}
	if d.isTest {
		tests[d.name] = d
	} else {
		commands[d.name] = d
	}
}

// Extensions lists the extensions a script may require, as ManageSieve's
// SIEVE capability and ihave see them, sorted.
func Extensions(opts *Options) []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []string
	for name, e := range extensions {
		if e.hidden || opts.disabled(name) {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func (o *Options) disabled(ext string) bool {
	if o == nil {
		return false
	}
	for _, d := range o.Disabled {
		if strings.EqualFold(d, ext) {
			return true
		}
	}
	return false
}

// Script is a compiled script. It is immutable and safe for concurrent
// runs.
type Script struct {
	name     string
	requires map[string]bool
	body     []command
	opts     *Options
	limits   Limits
	// globals lists the variables declared global (include, RFC 6609).
	globals map[string]bool
	// includes names the scripts this one includes, for loop checks.
	includes []includeRef
}

// Name is the name the script was compiled under.
func (s *Script) Name() string { return s.name }

// Requires reports whether the script requires ext.
func (s *Script) Requires(ext string) bool { return s.requires[ext] }

// Check compiles src and returns only the error.
func Check(src []byte, opts *Options) error {
	_, err := Compile("script", src, opts)
	return err
}

// compiler holds the state of one compile.
type compiler struct {
	script *Script
	opts   *Options
	limits Limits
	// loop is the depth of foreverypart loops around the current command.
	loop int
	// building is true while the requires at the top are being read.
	building bool
	// ext holds per-compile state of extensions (by extension name).
	ext map[string]any
}

// Compile parses and validates a script. The error is an *Error naming
// the line and column.
func Compile(name string, src []byte, opts *Options) (*Script, error) {
	lim := opts.limits()
	defer beginIncludes()()
	if len(src) > lim.MaxScriptSize {
		return nil, &Error{Script: name, Msg: fmt.Sprintf("script is too large (%d bytes, limit %d)", len(src), lim.MaxScriptSize)}
	}
	tree, err := parse(string(src), lim.MaxNesting)
	if err != nil {
		return nil, withScript(err, name)
	}
	s := &Script{name: name, requires: map[string]bool{}, opts: opts, limits: lim, globals: map[string]bool{}}
	c := &compiler{script: s, opts: opts, limits: lim, ext: map[string]any{}}
	body, err := c.block(tree, true)
	if err != nil {
		return nil, withScript(err, name)
	}
	if err := c.checkNeeds(); err != nil {
		return nil, withScript(err, name)
	}
	s.body = body
	return s, nil
}

// checkNeeds refuses a script that requires an extension without one it
// needs.
func (c *compiler) checkNeeds() error {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var names []string
	for name := range c.script.requires {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		e := extensions[name]
		if e == nil {
			continue
		}
		for _, need := range e.needs {
			if !c.script.requires[need] {
				return errorAt(Pos{}, "the %s extension cannot be used without the %s extension", name, need)
			}
		}
	}
	return nil
}

func withScript(err error, name string) error {
	if e, ok := err.(*Error); ok && e.Script == "" {
		e.Script = name
	}
	return err
}

func (o *Options) limits() Limits {
	var l Limits
	if o != nil {
		l = o.Limits
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxScriptSize, 1<<20)
	def(&l.MaxActions, 32)
	def(&l.MaxRedirects, 4)
	def(&l.MaxNesting, 32)
	def(&l.MaxSteps, 1_000_000)
	def(&l.MaxRegexSize, 8<<10)
	def(&l.MaxVariables, 255)
	def(&l.MaxVariableLen, 4<<10)
	def(&l.MaxIncludes, 255)
	def(&l.MaxIncludeDepth, 10)
	def(&l.MaxHeaderSize, 2<<10)
	def(&l.MaxBodySize, 1<<20)
	if l.MaxCPU <= 0 {
		l.MaxCPU = 2e9
	}
	return l
}

// has reports whether the script required ext.
func (c *compiler) has(ext string) bool { return ext == "" || c.script.requires[ext] }

// block compiles a list of commands; top is true for the script's top
// level, where require may appear first.
func (c *compiler) block(nodes []*node, top bool) ([]command, error) {
	var out []command
	requiresAllowed := top
	for i := 0; i < len(nodes); i++ {
		n := nodes[i]
		if n.name == "require" {
			if !requiresAllowed {
				return nil, errorAt(n.pos, "require command can only be placed at top level at the beginning of the file")
			}
			if err := c.require(n); err != nil {
				return nil, err
			}
			continue
		}
		requiresAllowed = false
		if n.name == "elsif" || n.name == "else" {
			return nil, errorAt(n.pos, "%s command must follow an if or elsif command", n.name)
		}
		if n.name == "if" {
			chain := []*node{n}
			for i+1 < len(nodes) && (nodes[i+1].name == "elsif" || nodes[i+1].name == "else") {
				i++
				chain = append(chain, nodes[i])
				if nodes[i].name == "else" {
					break
				}
			}
			cmd, err := c.ifChain(chain)
			if err != nil {
				return nil, err
			}
			out = append(out, cmd)
			continue
		}
		cmd, err := c.command(n)
		if err != nil {
			return nil, err
		}
		if cmd != nil {
			out = append(out, cmd)
		}
	}
	return out, nil
}

func (c *compiler) require(n *node) error {
	if len(n.args) != 1 || !n.args[0].isString() || len(n.tests) > 0 || n.hasBlock {
		return errorAt(n.pos, "the require command expects one string list argument naming extensions")
	}
	for i, name := range n.args[0].strs {
		if err := c.requireExt(name, n.args[0].strPos[i]); err != nil {
			return err
		}
	}
	return nil
}

func (c *compiler) requireExt(name string, p Pos) error {
	registryMu.RLock()
	e, ok := extensions[name]
	registryMu.RUnlock()
	if !ok || c.opts.disabled(name) {
		return errorAt(p, "require: unknown Sieve capability '%s'", name)
	}
	c.script.requires[name] = true
	for _, im := range e.implies {
		c.script.requires[im] = true
	}
	return nil
}

func (c *compiler) ifChain(chain []*node) (command, error) {
	out := &ifCmd{}
	for _, n := range chain {
		if n.name == "else" {
			if len(n.args) > 0 || len(n.tests) > 0 {
				return nil, errorAt(n.pos, "the else command takes no arguments or tests")
			}
		} else if len(n.args) > 0 || len(n.tests) != 1 {
			return nil, errorAt(n.pos, "the %s command expects exactly one test and no arguments", n.name)
		}
		if !n.hasBlock {
			return nil, errorAt(n.pos, "the %s command requires a block", n.name)
		}
		var t test
		if n.name != "else" {
			var err error
			if t, err = c.test(n.tests[0]); err != nil {
				return nil, err
			}
		}
		// A block guarded by an ihave test that is false is not compiled:
		// it may use extensions we lack (RFC 5463 section 4).
		if g, ok := t.(interface{ guardOK() bool }); ok && !g.guardOK() {
			out.branches = append(out.branches, ifBranch{cond: t})
			continue
		}
		body, err := c.block(n.block, false)
		if err != nil {
			return nil, err
		}
		out.branches = append(out.branches, ifBranch{cond: t, body: body})
	}
	return out, nil
}

// command validates and builds one command.
func (c *compiler) command(n *node) (command, error) {
	registryMu.RLock()
	d, ok := commands[n.name]
	_, isTest := tests[n.name]
	registryMu.RUnlock()
	if !ok || !c.has(d.ext) {
		if ok {
			return nil, errorAt(n.pos, "unknown command '%s' (its extension '%s' is not required)", n.name, d.ext)
		}
		if isTest {
			return nil, errorAt(n.pos, "'%s' is a test, not a command", n.name)
		}
		return nil, errorAt(n.pos, "unknown command '%s'", n.name)
	}
	a, err := c.match(d, n)
	if err != nil {
		return nil, err
	}
	if d.block {
		leave := func() {}
		if d.enter != nil {
			if leave, err = d.enter(c, a); err != nil {
				return nil, err
			}
		}
		a.body, err = c.block(n.block, false)
		leave()
		if err != nil {
			return nil, err
		}
	}
	v, err := d.build(c, a)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	return v.(command), nil
}

// test validates and builds one test.
func (c *compiler) test(n *node) (test, error) {
	registryMu.RLock()
	d, ok := tests[n.name]
	_, isCmd := commands[n.name]
	registryMu.RUnlock()
	if !ok || !c.has(d.ext) {
		if ok {
			return nil, errorAt(n.pos, "unknown test '%s' (its extension '%s' is not required)", n.name, d.ext)
		}
		if isCmd {
			return nil, errorAt(n.pos, "'%s' is a command, not a test", n.name)
		}
		return nil, errorAt(n.pos, "unknown test '%s'", n.name)
	}
	a, err := c.match(d, n)
	if err != nil {
		return nil, err
	}
	v, err := d.build(c, a)
	if err != nil {
		return nil, err
	}
	return v.(test), nil
}

// args are a command's validated arguments.
type args struct {
	n     *node
	def   *cmdDef
	tags  map[string]*argument // tag name -> its parameter (nil when none)
	order []string             // tags in the order written
	pos   []*argument
	tests []test
	body  []command
}

func (a *args) has(tag string) bool { _, ok := a.tags[tag]; return ok }

// group returns which tag of group was given, or "".
func (a *args) group(group string) string {
	for _, t := range a.order {
		for _, d := range a.def.tags {
			if d.name == t && d.group == group {
				return t
			}
		}
	}
	return ""
}

// match checks n's arguments against d.
func (c *compiler) match(d *cmdDef, n *node) (*args, error) {
	kind := "command"
	if d.isTest {
		kind = "test"
	}
	a := &args{n: n, def: d, tags: map[string]*argument{}}
	groups := map[string]string{}
	for i := 0; i < len(n.args); i++ {
		arg := n.args[i]
		if arg.tag == "" {
			a.pos = append(a.pos, arg)
			continue
		}
		var td *tagDef
		for j := range d.tags {
			if d.tags[j].name == arg.tag && c.has(d.tags[j].ext) {
				td = &d.tags[j]
				break
			}
		}
		if td == nil {
			return nil, errorAt(arg.pos, "unknown tagged argument ':%s' for the %s %s", arg.tag, d.name, kind)
		}
		if _, dup := a.tags[td.name]; dup {
			return nil, errorAt(arg.pos, "tagged argument ':%s' given more than once for the %s %s", arg.tag, d.name, kind)
		}
		if td.group != "" {
			if prev, ok := groups[td.group]; ok {
				return nil, errorAt(arg.pos, "tagged arguments ':%s' and ':%s' of the %s %s exclude each other", prev, td.name, d.name, kind)
			}
			groups[td.group] = td.name
		}
		var param *argument
		if td.param != aNone {
			if i+1 >= len(n.args) || !fits(n.args[i+1], td.param) {
				return nil, errorAt(arg.pos, "the :%s tag of the %s %s expects a %s parameter", td.name, d.name, kind, td.param)
			}
			i++
			param = n.args[i]
		}
		a.tags[td.name] = param
		a.order = append(a.order, td.name)
	}
	if len(a.pos) < d.minPos || len(a.pos) > len(d.pos) {
		if len(d.pos) == 0 {
			return nil, errorAt(n.pos, "the %s %s takes no positional arguments", d.name, kind)
		}
		return nil, errorAt(n.pos, "the %s %s expects %s", d.name, kind, describePositional(d))
	}
	for i, p := range a.pos {
		if !fits(p, d.pos[i]) {
			return nil, errorAt(p.pos, "the %s %s expects a %s as argument %d, not a %s", d.name, kind, d.pos[i], i+1, p.describe())
		}
	}
	switch {
	case d.tests == 0 && len(n.tests) > 0:
		return nil, errorAt(n.pos, "the %s %s takes no tests", d.name, kind)
	case d.tests == 1 && len(n.tests) != 1:
		return nil, errorAt(n.pos, "the %s %s expects one test", d.name, kind)
	case d.tests == -1 && len(n.tests) == 0:
		return nil, errorAt(n.pos, "the %s %s expects a list of tests", d.name, kind)
	}
	for _, tn := range n.tests {
		t, err := c.test(tn)
		if err != nil {
			return nil, err
		}
		a.tests = append(a.tests, t)
	}
	if d.block && !n.hasBlock {
		return nil, errorAt(n.pos, "the %s %s requires a block", d.name, kind)
	}
	if !d.block && n.hasBlock {
		return nil, errorAt(n.pos, "the %s %s takes no block", d.name, kind)
	}
	return a, nil
}

func describePositional(d *cmdDef) string {
	var parts []string
	for _, p := range d.pos {
		parts = append(parts, "a "+p.String())
	}
	s := strings.Join(parts, ", ")
	if d.minPos < len(d.pos) {
		s += fmt.Sprintf(" (the first %d required)", d.minPos)
	}
	return s
}

func fits(a *argument, t argType) bool {
	switch t {
	case aNumber:
		return a.isNum
	case aString:
		return a.isString() && !a.isList
	case aStringList:
		return a.isString()
	}
	return false
}
