package sieve

import (
	"errors"
	"io/fs"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The include extension (RFC 6609): include, return and global, and the
// "global" variable namespace.
//
// Included scripts are found when the including script compiles, as
// Pigeonhole does: a missing script, a loop or too many includes refuse
// the script at once instead of failing every delivery. The Loader
// compiles each included script with Compile, so the compiles of one
// include tree nest on one goroutine; includeSession is their shared
// state (the chain of scripts being compiled, the scripts loaded so far),
// kept per goroutine because Compile has no other way to hand it down.

func init() {
	registerExtension(&extDef{name: "include"})
	register(&cmdDef{name: "include", ext: "include", tags: []tagDef{
		{name: "personal", group: "location"},
		{name: "global", group: "location"},
		{name: "once"},
		{name: "optional"},
	}, pos: []argType{aString}, minPos: -1, build: buildInclude})
	register(&cmdDef{name: "return", ext: "include", build: func(*compiler, *args) (any, error) { return returnCmd{}, nil }})
	register(&cmdDef{name: "global", ext: "include", pos: []argType{aStringList}, minPos: -1, build: buildGlobal})
	namespaces = append(namespaces, namespace{
		name:  "global",
		ext:   "include",
		check: checkGlobalName,
		get: func(r *runtime, name string) (string, bool) {
			v, ok := r.globals[strings.ToLower(name)]
			return v, ok
		},
	})
}

// includeSlot is one included script as the compile found it. script is
// nil while it is still compiling (a :once loop) and stays nil when the
// script does not exist (:optional, or uploading).
type includeSlot struct {
	script  *Script
	missing error
}

type includeSession struct {
	chain  []includeRef
	loaded map[includeRef]*includeSlot
}

var includeSessions = struct {
	sync.Mutex
	m map[uint64]*includeSession
}{m: map[uint64]*includeSession{}}

// goroutineID reads the current goroutine's number from its stack
// header ("goroutine 42 [running]:").
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:goruntime.Stack(buf[:], false)]
	b = b[len("goroutine "):]
	if i := strings.IndexByte(string(b), ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// beginIncludes starts the include session of an outermost compile and
// returns a function that ends it; nested compiles (through a Loader)
// find the session already there and leave it alone.
func beginIncludes() func() {
	id := goroutineID()
	includeSessions.Lock()
	defer includeSessions.Unlock()
	if includeSessions.m[id] != nil {
		return func() {}
	}
	includeSessions.m[id] = &includeSession{loaded: map[includeRef]*includeSlot{}}
	return func() {
		includeSessions.Lock()
		delete(includeSessions.m, id)
		includeSessions.Unlock()
	}
}

// currentIncludes returns the include session of this goroutine.
func currentIncludes() *includeSession {
	id := goroutineID()
	includeSessions.Lock()
	defer includeSessions.Unlock()
	return includeSessions.m[id]
}

// checkScriptName refuses names no script can have (RFC 5804 section
// 1.6; "/" because scripts are not paths).
func checkScriptName(name string) error {
	if name == "" {
		return errors.New("script name is empty")
	}
	if !utf8.ValidString(name) {
		return errors.New("script name is not valid UTF-8")
	}
	for _, r := range name {
		switch {
		case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0x2028, r == 0x2029:
			return errors.New("script name contains a control character")
		case r == '/':
			return errors.New("script name contains '/'")
		}
	}
	return nil
}

type includeCmd struct {
	pos      Pos
	ref      includeRef
	once     bool
	optional bool
	slot     *includeSlot // nil: no loader; fails when run
}

func buildInclude(c *compiler, a *args) (any, error) {
	// The name is a constant: variables are not expanded in it (RFC
	// 6609 section 3.2).
	name, err := c.constString(a.pos[0], 0, "included script name")
	if err != nil {
		return nil, err
	}
	if err := checkScriptName(name); err != nil {
		return nil, errorAt(a.pos[0].pos, "invalid script name '%s': %v", sanitize(name, 80), err)
	}
	loc := "personal"
	if a.has("global") {
		loc = "global"
	}
	inc := &includeCmd{pos: a.n.pos, ref: includeRef{location: loc, name: name}, once: a.has("once"), optional: a.has("optional")}
	c.script.includes = append(c.script.includes, inc.ref)
	// The including script is a personal one of this name: including
	// itself is a loop even before any loader is asked.
	if loc == "personal" && name == c.script.name && !inc.once {
		return c.circularInclude(inc)
	}
	if c.opts == nil || c.opts.Includes == nil {
		return inc, nil
	}
	sess := currentIncludes()
	if sess == nil {
		return nil, errorAt(a.n.pos, "include: no compile session")
	}
	for _, ref := range sess.chain {
		if ref == inc.ref && !inc.once {
			return c.circularInclude(inc)
		}
	}
	if len(sess.chain) >= c.limits.MaxIncludeDepth {
		return nil, errorAt(a.n.pos, "cannot nest includes deeper than %d levels", c.limits.MaxIncludeDepth)
	}
	if slot, ok := sess.loaded[inc.ref]; ok {
		inc.slot = slot
		return inc, nil
	}
	if len(sess.loaded) >= c.limits.MaxIncludes {
		return nil, errorAt(a.n.pos, "failed to include script '%s': no more than %d scripts may be included", sanitize(name, 80), c.limits.MaxIncludes)
	}
	slot := &includeSlot{}
	sess.loaded[inc.ref] = slot
	inc.slot = slot
	sess.chain = append(sess.chain, inc.ref)
	s, err := c.opts.Includes.LoadScript(loc, name)
	sess.chain = sess.chain[:len(sess.chain)-1]
	switch {
	case err == nil && s == nil:
		err = fs.ErrNotExist
	case err == nil:
		slot.script = s
		return inc, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		var se *Error
		if errors.As(err, &se) {
			return nil, errorAt(a.n.pos, "failed to compile included %s script '%s': %v", loc, sanitize(name, 80), err)
		}
		return nil, errorAt(a.n.pos, "failed to load included %s script '%s': %v", loc, sanitize(name, 80), err)
	}
	// A missing script is fine with :optional; on upload it may come
	// later, so only a run fails (as Pigeonhole does).
	slot.missing = err
	if inc.optional || c.opts.Uploading {
		return inc, nil
	}
	return nil, errorAt(a.n.pos, "included %s script '%s' does not exist", loc, sanitize(name, 80))
}

// circularInclude refuses an include loop, except while uploading an
// inactive script, where Pigeonhole only drops the include.
func (c *compiler) circularInclude(inc *includeCmd) (any, error) {
	if c.opts != nil && c.opts.Uploading {
		return nil, nil
	}
	return nil, errorAt(inc.pos, "circular include of %s script '%s'", inc.ref.location, sanitize(inc.ref.name, 80))
}

func (inc *includeCmd) exec(r *runtime) error {
	var s *Script
	if inc.slot != nil {
		s = inc.slot.script
	}
	if s == nil {
		if inc.optional {
			return nil
		}
		return r.errorf(inc.pos, "included %s script '%s' is not available", inc.ref.location, sanitize(inc.ref.name, 80))
	}
	key := inc.ref.location + "/" + inc.ref.name
	// :once: a script already included in this run is not run again
	// (RFC 6609 section 3.2).
	if inc.once && r.included[key] {
		return nil
	}
	lim := r.script.limits
	if r.depth >= lim.MaxIncludeDepth {
		return r.errorf(inc.pos, "cannot nest includes deeper than %d levels", lim.MaxIncludeDepth)
	}
	if r.includes >= lim.MaxIncludes {
		return r.errorf(inc.pos, "no more than %d scripts may be included in one run", lim.MaxIncludes)
	}
	r.includes++
	r.included[key] = true
	// The included script has its own local variables and match
	// variables; globals are shared (RFC 6609 section 3.3).
	script, vars, match := r.script, r.vars, r.match
	r.script, r.vars, r.match = s, map[string]string{}, nil
	r.depth++
	err := r.block(s.body)
	r.depth--
	r.script, r.vars, r.match = script, vars, match
	if err == errReturn {
		return nil
	}
	return err
}

// returnCmd ends the script it is in; in the main script it is stop
// (RFC 6609 section 3.4).
type returnCmd struct{}

func (returnCmd) exec(*runtime) error { return errReturn }

func buildGlobal(c *compiler, a *args) (any, error) {
	// RFC 6609 section 3.3: global is part of the variables model.
	if !c.has("variables") {
		return nil, errorAt(a.n.pos, "the global command requires the variables extension")
	}
	for i := range a.pos[0].strs {
		name, err := c.constString(a.pos[0], i, "global variable name")
		if err != nil {
			return nil, err
		}
		if !isIdentifier(name) {
			return nil, errorAt(a.pos[0].pos, "invalid variable name '%s' for global", sanitize(name, 80))
		}
		lname := strings.ToLower(name)
		// A variable set as a local one cannot become global later in
		// the same script (Pigeonhole refuses it; the variables
		// extension keeps the names set so far in c.ext).
		if set, _ := c.ext["variables"].(map[string]bool); set[lname] && !c.script.globals[lname] {
			return nil, errorAt(a.pos[0].pos, "variable '%s' is declared global after its use as a local variable", sanitize(name, 80))
		}
		c.script.globals[lname] = true
	}
	return nil, nil
}

// checkGlobalName accepts "global.NAME" with one plain name (RFC 6609
// section 5).
func checkGlobalName(rest []string, p Pos) error {
	if len(rest) != 1 {
		return errorAt(p, "invalid variable name 'global.%s': the global namespace has no sub-namespaces", strings.Join(rest, "."))
	}
	return nil
}
