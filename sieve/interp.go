package sieve

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"letterbox/message"
)

// command is a compiled command; test a compiled test.
type command interface {
	exec(r *runtime) error
}

type test interface {
	eval(r *runtime) (bool, error)
}

// runtime is the state of one run.
type runtime struct {
	ctx      context.Context
	in       *Input
	script   *Script // the script running now (changes inside include)
	res      *Result
	msg      *Message // the message as edited so far
	now      time.Time
	deadline time.Time
	steps    int
	// keep is the implicit keep (RFC 5228 section 2.10.2).
	keep bool
	// flags is imap4flags' internal variable (RFC 5232 section 3).
	flags []string
	// vars are the variables of the running script; globals those
	// declared global, shared with included scripts (RFC 6609).
	vars      map[string]string
	globals   map[string]string
	match     []string
	regexes   map[string]*regexp.Regexp
	folded    map[foldKey]foldEntry        // long values folded by a comparator (match.go)
	bufs      []*[]byte                    // pooled buffers (folded values, part contents), released by finish
	addrCache map[string][]message.Address // field values parsed as addresses (core.go)
	fields    map[fieldKey][]string        // field values looked up (core.go)
	addrParts map[addrPartKey][]string     // parts of addresses in field values (core.go)
	// includes counts included scripts; depth their nesting.
	includes int
	depth    int
	included map[string]bool // "location/name" of scripts run once
	// ext holds per-run state of extensions (by extension name).
	ext map[string]any
	// executed counts the leading actions of res that an earlier script
	// of a sequence already carried out; they no longer conflict.
	executed int
	// executedTrack counts the Track entries of those scripts.
	executedTrack int
}

// Run runs the script against in and returns what it decided. It never
// returns nil; a run-time failure is in Result.Err, with the implicit
// keep in force and no other action.
func (s *Script) Run(ctx context.Context, in *Input) *Result {
	r := newRuntime(ctx, in, s.limits)
	r.runScript(s)
	return r.finish()
}

// RunSequence runs scripts one after the other on one result, as
// Dovecot runs sieve_before, the user's script and sieve_after: the next
// script runs only while the implicit keep still stands. A run-time
// failure stops the sequence and keeps the message, with what the scripts
// before the failing one decided.
func RunSequence(ctx context.Context, scripts []*Script, in *Input) *Result {
	if len(scripts) == 0 {
		return &Result{ImplicitKeep: true}
	}
	r := newRuntime(ctx, in, scripts[0].limits)
	for _, s := range scripts {
		if !r.runScript(s) || !r.keep {
			break
		}
		// Dovecot executes each script's actions before the next runs.
		r.executed = len(r.res.Actions)
		r.executedTrack = len(r.res.Track)
	}
	return r.finish()
}

func newRuntime(ctx context.Context, in *Input, lim Limits) *runtime {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	return &runtime{
		ctx: ctx, in: in, res: &Result{}, msg: in.Message, now: now,
		deadline: time.Now().Add(lim.MaxCPU), keep: true,
		globals: map[string]string{}, included: map[string]bool{}, ext: map[string]any{},
	}
}

// runScript runs one script of a sequence; false when it failed.
func (r *runtime) runScript(s *Script) bool {
	r.script = s
	r.vars = map[string]string{}
	r.match = nil
	r.steps = 0
	err := r.block(s.body)
	if err != nil && err != errStop && err != errReturn {
		r.res.Err = withScript(err, s.name)
		return false
	}
	return true
}

// finish settles the result.
func (r *runtime) finish() *Result {
	r.releaseBufs()
	res := r.res
	if res.Err != nil {
		// A broken script never loses mail (RFC 5228 section 2.10.6): drop
		// what it decided and keep. What earlier scripts of a sequence
		// decided stands: Dovecot has carried it out already.
		res.Actions = res.Actions[:r.executed]
		res.Track = res.Track[:r.executedTrack]
		res.ImplicitKeep = true
		res.ImplicitKeepFlags = nil
		res.ImplicitKeepMessage = nil
		return res
	}
	res.ImplicitKeep = r.keep
	if r.keep {
		res.ImplicitKeepFlags = append([]string(nil), r.flags...)
		if r.msg != nil && r.msg.edited {
			res.ImplicitKeepMessage = r.msg
		}
	}
	return res
}

func (r *runtime) block(cmds []command) error {
	for _, c := range cmds {
		if err := r.step(); err != nil {
			return err
		}
		if err := c.exec(r); err != nil {
			return err
		}
	}
	return nil
}

// step counts work and stops a run that passes its limits.
func (r *runtime) step() error {
	r.steps++
	if r.steps > r.script.limits.MaxSteps {
		return errorAt(Pos{}, "execution exceeded the step limit (%d)", r.script.limits.MaxSteps)
	}
	if r.steps%1024 == 0 {
		if time.Now().After(r.deadline) {
			return errorAt(Pos{}, "execution exceeded the CPU time limit (%v)", r.script.limits.MaxCPU)
		}
		if err := r.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// checkDeadline stops a run past its CPU time limit. step looks at the
// clock only every 1024 steps; a single costly step (a regular
// expression) checks on its own.
func (r *runtime) checkDeadline() error {
	if time.Now().After(r.deadline) {
		return errorAt(Pos{}, "execution exceeded the CPU time limit (%v)", r.script.limits.MaxCPU)
	}
	return nil
}

// expand returns the value of a compiled string with its variable
// references replaced.
func (r *runtime) expand(s str) string {
	if s.parts == nil {
		return s.lit
	}
	var b strings.Builder
	for _, p := range s.parts {
		if !p.isRef {
			b.WriteString(p.text)
			continue
		}
		b.WriteString(r.variable(p))
	}
	v := b.String()
	if max := r.script.limits.MaxVariableLen; len(v) > max*4 {
		v = truncateUTF8(v, max*4)
	}
	return v
}

func (r *runtime) variable(p strPart) string {
	if p.num >= 0 {
		if p.num < len(r.match) {
			return r.match[p.num]
		}
		return ""
	}
	if i := strings.IndexByte(p.name, '.'); i > 0 {
		for _, n := range namespaces {
			if n.name == p.name[:i] && r.script.requires[n.ext] {
				v, _ := n.get(r, p.name[i+1:])
				return v
			}
		}
		return ""
	}
	if r.script.globals[p.name] {
		return r.globals[p.name]
	}
	return r.vars[p.name]
}

// setVariable assigns a variable, global when the script declared it so.
func (r *runtime) setVariable(name, value string) error {
	name = strings.ToLower(name)
	if max := r.script.limits.MaxVariableLen; len(value) > max {
		value = truncateUTF8(value, max)
	}
	if strings.HasPrefix(name, "global.") {
		name = strings.TrimPrefix(name, "global.")
		r.globals[name] = value
		return nil
	}
	if r.script.globals[name] {
		r.globals[name] = value
		return nil
	}
	if _, ok := r.vars[name]; !ok && len(r.vars) >= r.script.limits.MaxVariables {
		return errorAt(Pos{}, "too many variables (limit %d)", r.script.limits.MaxVariables)
	}
	r.vars[name] = value
	return nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// setMatch records the match variables of a successful match, when the
// script uses variables (RFC 5229 section 3.2).
func (r *runtime) setMatch(caps []string) {
	if !r.script.requires["variables"] {
		return
	}
	// RFC 5229 asks for ${0} to ${9} at least; Pigeonhole keeps ${0}
	// to ${32}, and scripts written for it use them.
	if len(caps) > 33 {
		caps = caps[:33]
	}
	r.match = append(r.match[:0], caps...)
}

// regex compiles a key that held variables, with a per-run cache.
func (r *runtime) regex(expr string, cmp *comparator) (*regexp.Regexp, error) {
	key := cmp.name + "\x00" + expr
	if re, ok := r.regexes[key]; ok {
		return re, nil
	}
	re, err := compileRegex(expr, cmp, r.script.limits.MaxRegexSize)
	if err != nil {
		return nil, err
	}
	if r.regexes == nil {
		r.regexes = map[string]*regexp.Regexp{}
	}
	r.regexes[key] = re
	return re, nil
}

// errorf makes a run-time error at p.
func (r *runtime) errorf(p Pos, format string, args ...any) error {
	return &Error{Script: r.script.name, Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// isRuntimeError tells a script error from a stop.
func isRuntimeError(err error) bool {
	return err != nil && !errors.Is(err, errStop) && !errors.Is(err, errReturn)
}

// --- control commands ---

type ifBranch struct {
	cond test // nil for else
	body []command
}

type ifCmd struct{ branches []ifBranch }

func (c *ifCmd) exec(r *runtime) error {
	for _, b := range c.branches {
		if b.cond != nil {
			ok, err := b.cond.eval(r)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		return r.block(b.body)
	}
	return nil
}

type stopCmd struct{}

func (stopCmd) exec(*runtime) error { return errStop }
