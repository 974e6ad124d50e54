package sieve

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the vnd.dovecot.testsuite extension: the commands and
// tests Pigeonhole's own test suite is written in (its src/testsuite),
// re-done for this interpreter. It is registered only in tests.
//
// A .svtest file runs as one script. Its `test "name" { ... }` blocks are
// the sub-tests; test_fail ends the block it is in. State carries over
// from one block to the next as it does in Pigeonhole (the message, the
// envelope, the result, the mail store, the sent mail), so a file reads
// top to bottom.
//
// The "result" the test_result_* commands look at is the result of the
// .svtest script itself: actions the file takes directly, and those of
// scripts run with test_script_run, land in it. test_result_execute
// carries out the actions not carried out yet against an in-memory mail
// store (tsStore) and an outgoing-mail capture (tsSuite.smtp).

const testsuiteExt = "vnd.dovecot.testsuite"

func init() {
	registerExtension(&extDef{name: testsuiteExt, hidden: true})
	// ${tst.path}: the folder of the .svtest file.
	namespaces = append(namespaces, namespace{name: "tst", ext: testsuiteExt,
		check: func(rest []string, p Pos) error {
			if len(rest) != 1 || strings.ToLower(rest[0]) != "path" {
				return errorAt(p, "unknown testsuite variable '%s'", strings.Join(rest, "."))
			}
			return nil
		},
		get: func(r *runtime, name string) (string, bool) {
			if name == "path" {
				return suiteOf(r).dir, true
			}
			return "", false
		}})
	x := testsuiteExt
	reg := func(d *cmdDef) {
		d.ext = x
		register(d)
	}
	reg(&cmdDef{name: "test", pos: []argType{aString}, minPos: -1, block: true, build: buildTSTest})
	reg(&cmdDef{name: "test_fail", pos: []argType{aString}, minPos: -1, build: buildTSFail})
	reg(&cmdDef{name: "test_set", pos: []argType{aString, aString}, minPos: -1, build: buildTSSet})
	msgTags := []tagDef{{name: "smtp", group: "source"}, {name: "folder", param: aString, group: "source"}}
	reg(&cmdDef{name: "test_message", tags: msgTags, pos: []argType{aNumber}, minPos: -1, build: buildTSMessage})
	reg(&cmdDef{name: "test_message", isTest: true, tags: msgTags, pos: []argType{aNumber}, minPos: -1, build: buildTSMessage})
	reg(&cmdDef{name: "test_message_print", build: func(*compiler, *args) (any, error) { return tsMessagePrint{}, nil }})
	reg(&cmdDef{name: "test_result_execute", isTest: true, build: func(*compiler, *args) (any, error) { return tsResultExecute{}, nil }})
	reg(&cmdDef{name: "test_result_reset", build: func(*compiler, *args) (any, error) { return tsResultReset{}, nil }})
	reg(&cmdDef{name: "test_result_print", build: func(*compiler, *args) (any, error) { return tsResultPrint{}, nil }})
	indexTag := tagDef{name: "index", param: aNumber}
	reg(&cmdDef{name: "test_result_action", isTest: true, tags: withTags(matchTags, []tagDef{indexTag}),
		pos: []argType{aStringList}, minPos: -1, build: buildTSResultAction})
	reg(&cmdDef{name: "test_error", isTest: true, tags: withTags(matchTags, []tagDef{indexTag}),
		pos: []argType{aStringList}, minPos: -1, build: buildTSError})
	reg(&cmdDef{name: "test_mailbox_create", pos: []argType{aString}, minPos: -1, build: buildTSMailboxCreate})
	reg(&cmdDef{name: "test_script_compile", isTest: true, pos: []argType{aString}, minPos: -1, build: buildTSCompile})
	reg(&cmdDef{name: "test_script_run", isTest: true, tags: []tagDef{{name: "append_result"}}, build: buildTSRun})
	reg(&cmdDef{name: "test_multiscript", isTest: true, pos: []argType{aStringList}, minPos: -1, build: buildTSMultiscript})
	reg(&cmdDef{name: "test_config_set", pos: []argType{aString, aString}, minPos: -1, build: buildTSConfigSet})
	reg(&cmdDef{name: "test_config_unset", pos: []argType{aString}, minPos: -1, build: buildTSConfigSet})
	reg(&cmdDef{name: "test_config_reload", tags: []tagDef{{name: "extension", param: aString}}, build: buildTSConfigReload})
	reg(&cmdDef{name: "test_binary_save", pos: []argType{aString}, minPos: -1, build: buildTSBinary})
	reg(&cmdDef{name: "test_binary_load", pos: []argType{aString}, minPos: -1, build: buildTSBinary})
}

// --- state ---

// tsSuite is the state of one .svtest file.
type tsSuite struct {
	ctx        context.Context
	dir        string // folder of the script running (relative script names)
	opts       *Options
	in         *Input
	main       *runtime // the .svtest script's runtime; its result is "the result"
	mainScript *Script

	executed int  // actions of the result carried out already
	keepDone bool // implicit keep of the result carried out already

	compiled     *Script
	compiledPath string
	compiledTS   bool              // the compiled script uses the testsuite itself
	binaries     map[string]string // test_binary_save name -> script path
	errs         []string          // errors of the last compile, run or execute

	store *tsStore
	smtp  []tsMail

	config      map[string]string
	unsupported []string // test_config_set settings not mapped

	tests  []tsOutcome
	cur    *tsOutcome // the test block running
	topErr []string   // failures outside any test block
	logf   func(format string, args ...any)
}

type tsOutcome struct {
	name   string
	failed bool
	reason string
}

// tsMail is one captured outgoing message.
type tsMail struct {
	from, to string
	data     []byte
}

// tsFailure ends a test block (test_fail).
type tsFailure struct{ reason string }

func (f *tsFailure) Error() string { return "test failed: " + f.reason }

func suiteOf(r *runtime) *tsSuite { return r.ext[testsuiteExt].(*tsSuite) }

const tsDefaultMessage = "From: sender@example.com\r\nTo: recipient@example.org\r\nSubject: Frop!\r\n\r\nFriep!\r\n"

func newSuite(ctx context.Context, dir string) *tsSuite {
	st := &tsSuite{
		ctx: ctx, dir: dir, opts: &Options{}, store: newTSStore(),
		binaries: map[string]string{}, config: map[string]string{},
		logf: func(string, ...any) {},
	}
	st.opts.Includes = &tsLoader{st: st}
	// Pigeonhole's testsuite runs as the mail server ("MS") would.
	st.in = &Input{Mailboxes: st.store, Tracker: st, Now: time.Now(), Env: map[string]string{"location": "MS"}}
	m, _ := ParseMessage([]byte(tsDefaultMessage))
	st.setMessage(nil, m)
	return st
}

// Seen implements Tracker. Like Pigeonhole's testsuite (which has no
// duplicate_check), nothing was ever seen: results record no Track
// entries, so vacation answers every time and duplicate sees only the
// ids of its own run.
func (st *tsSuite) Seen(kind, key string) bool { return false }

// setMessage makes m the message under test and derives the envelope
// from its header as Pigeonhole's testsuite does.
func (st *tsSuite) setMessage(r *runtime, m *Message) {
	st.in.Message = m
	to := firstAddress(m, "Envelope-To", "To")
	if to == "" {
		to = "recipient@example.com"
	}
	from := firstAddress(m, "Return-Path", "Sender", "From")
	if from == "" {
		from = "sender@example.com"
	}
	st.in.Envelope = Envelope{From: from, To: to, OrigTo: to}
	st.messageChanged(r)
}

// messageChanged points the running runtimes at the current message.
func (st *tsSuite) messageChanged(r *runtime) {
	if st.main != nil {
		st.main.msg = st.in.Message
	}
	if r != nil {
		r.msg = st.in.Message
	}
}

func firstAddress(m *Message, names ...string) string {
	for _, n := range names {
		vals := m.rawValues(n)
		if len(vals) == 0 {
			continue
		}
		for _, a := range addressValues(vals[0], "all") {
			if strings.Contains(a, "@") {
				return a
			}
		}
	}
	return ""
}

// reset empties the result (test_result_reset, test_script_run).
func (st *tsSuite) reset(r *runtime) {
	m := st.main
	m.res = &Result{}
	m.keep = true
	m.flags = nil
	m.msg = st.in.Message
	for k := range m.ext {
		if k != testsuiteExt {
			delete(m.ext, k)
		}
	}
	st.executed, st.keepDone = 0, false
	m.executed = 0
	if r != nil && r != m {
		r.res, r.keep, r.flags, r.msg = m.res, true, nil, m.msg
	}
}

// fail records a failure of the running test block (or of the file,
// outside any block).
func (st *tsSuite) fail(reason string) {
	if st.cur != nil {
		if !st.cur.failed {
			st.cur.failed, st.cur.reason = true, reason
		}
		return
	}
	st.topErr = append(st.topErr, reason)
}

// --- test, test_fail ---

type tsTestCmd struct {
	name str
	body []command
}

func buildTSTest(c *compiler, a *args) (any, error) {
	s, err := c.str(a.pos[0], 0)
	if err != nil {
		return nil, err
	}
	return &tsTestCmd{name: s, body: a.body}, nil
}

func (t *tsTestCmd) exec(r *runtime) error {
	st := suiteOf(r)
	st.tests = append(st.tests, tsOutcome{name: r.expand(t.name)})
	prev := st.cur
	st.cur = &st.tests[len(st.tests)-1]
	defer func() { st.cur = prev }()
	err := r.block(t.body)
	if err == nil {
		return nil
	}
	if f, ok := err.(*tsFailure); ok {
		st.fail(f.reason)
		return nil
	}
	if err == errStop || err == errReturn {
		return err
	}
	st.fail("run-time error: " + err.Error())
	return nil
}

type tsFailCmd struct{ reason str }

func buildTSFail(c *compiler, a *args) (any, error) {
	s, err := c.str(a.pos[0], 0)
	return &tsFailCmd{reason: s}, err
}

func (f *tsFailCmd) exec(r *runtime) error {
	reason := r.expand(f.reason)
	if suiteOf(r).cur == nil {
		suiteOf(r).fail(reason)
		return nil
	}
	return &tsFailure{reason: reason}
}

// --- test_set ---

type tsSetCmd struct {
	pos        Pos
	key, value str
}

func buildTSSet(c *compiler, a *args) (any, error) {
	k, err := c.str(a.pos[0], 0)
	if err != nil {
		return nil, err
	}
	v, err := c.str(a.pos[1], 0)
	if err != nil {
		return nil, err
	}
	return &tsSetCmd{pos: a.n.pos, key: k, value: v}, nil
}

func (c *tsSetCmd) exec(r *runtime) error {
	st := suiteOf(r)
	key, value := strings.ToLower(r.expand(c.key)), r.expand(c.value)
	switch key {
	case "message":
		m, err := ParseMessage([]byte(value))
		if err != nil {
			return r.errorf(c.pos, "testsuite: bad message: %v", err)
		}
		st.setMessage(r, m)
	case "envelope.from":
		st.in.Envelope.From = envelopePath(value)
	case "envelope.to":
		st.in.Envelope.To = envelopePath(value)
		st.in.Envelope.OrigTo = st.in.Envelope.To
	case "envelope.orig_to":
		st.in.Envelope.OrigTo = envelopePath(value)
	case "envelope.auth":
		st.in.Envelope.Auth = value
	default:
		return r.errorf(c.pos, "testsuite: test_set: unknown item '%s'", key)
	}
	return nil
}

// envelopePath strips the angle brackets of an SMTP path.
func envelopePath(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = s[1 : len(s)-1]
	}
	return s
}

// --- test_message ---

type tsMessageCmd struct {
	pos    Pos
	folder *str // nil: :smtp
	index  int
}

func buildTSMessage(c *compiler, a *args) (any, error) {
	t := &tsMessageCmd{pos: a.n.pos, index: int(a.pos[0].num)}
	switch a.group("source") {
	case "folder":
		s, err := c.str(a.tags["folder"], 0)
		if err != nil {
			return nil, err
		}
		t.folder = &s
	case "smtp":
	default:
		return nil, errorAt(a.n.pos, "the test_message command requires either the :smtp or the :folder tag")
	}
	return t, nil
}

// sel makes the chosen message current; false when there is none.
func (t *tsMessageCmd) sel(r *runtime) (bool, string, error) {
	st := suiteOf(r)
	if t.folder == nil {
		if t.index >= len(st.smtp) {
			return false, fmt.Sprintf("no outgoing SMTP message with index %d", t.index), nil
		}
		sent := st.smtp[t.index]
		m, err := ParseMessage(sent.data)
		if err != nil {
			return false, "", r.errorf(t.pos, "testsuite: bad sent message: %v", err)
		}
		st.in.Message = m
		st.in.Envelope = Envelope{From: sent.from, To: sent.to, OrigTo: sent.to}
		st.messageChanged(r)
		r.flags = nil
		return true, "", nil
	}
	name := r.expand(*t.folder)
	if !utf8.ValidString(name) {
		return false, "", r.errorf(t.pos, "testsuite: invalid mailbox name (not UTF-8)")
	}
	mb := st.store.get(name)
	if mb == nil || t.index >= len(mb.msgs) {
		return false, fmt.Sprintf("no message in folder '%s' with index %d", name, t.index), nil
	}
	stored := mb.msgs[t.index]
	m, err := ParseMessage(stored.data)
	if err != nil {
		return false, "", r.errorf(t.pos, "testsuite: bad stored message: %v", err)
	}
	st.setMessage(r, m)
	// imap4flags' internal variable starts from the flags of the mail
	// being filtered, as when Pigeonhole filters a stored mail.
	r.flags = slices.Clone(stored.flags)
	if st.main != nil {
		st.main.flags = slices.Clone(stored.flags)
	}
	return true, "", nil
}

func (t *tsMessageCmd) exec(r *runtime) error {
	ok, why, err := t.sel(r)
	if err != nil {
		return err
	}
	if !ok {
		if suiteOf(r).cur == nil {
			suiteOf(r).fail(why)
			return nil
		}
		return &tsFailure{reason: why}
	}
	return nil
}

func (t *tsMessageCmd) eval(r *runtime) (bool, error) {
	ok, _, err := t.sel(r)
	return ok, err
}

type tsMessagePrint struct{}

func (tsMessagePrint) exec(r *runtime) error {
	suiteOf(r).logf("test_message_print:\n%s", r.msg.Bytes())
	return nil
}

// --- results ---

type tsResultReset struct{}

func (tsResultReset) exec(r *runtime) error {
	st := suiteOf(r)
	st.reset(r)
	st.smtp = nil
	return nil
}

type tsResultPrint struct{}

func (tsResultPrint) exec(r *runtime) error {
	var b strings.Builder
	m := suiteOf(r).main
	FormatResult(&b, &Result{Actions: m.res.Actions, ImplicitKeep: m.keep, ImplicitKeepFlags: m.flags})
	suiteOf(r).logf("test_result_print:%s", b.String())
	return nil
}

type tsResultExecute struct{}

func (tsResultExecute) eval(r *runtime) (bool, error) {
	st := suiteOf(r)
	st.errs = nil
	m := st.main
	if r != m {
		m.keep, m.flags = r.keep, r.flags
	}
	acts := m.res.Actions
	var keepMsg *Message
	if m.msg != nil && m.msg.edited {
		keepMsg = m.msg
	}
	ok := st.execute(acts[min(st.executed, len(acts)):], m.keep && !st.keepDone, m.flags, keepMsg)
	st.executed = len(acts)
	// Actions carried out no longer conflict with later ones (a reject
	// after an executed fileinto is allowed, as in a script sequence).
	m.executed = len(acts)
	if m.keep {
		st.keepDone = true
	}
	return ok, nil
}

// execute carries out actions, then the implicit keep when keep is set.
// A fileinto that cannot be stored fails the execution; the message
// then goes to INBOX, as the implicit keep of a failed delivery.
func (st *tsSuite) execute(acts []Action, keep bool, keepFlags []string, keepMsg *Message) bool {
	ok := true
	inbox := false
	msgOf := func(m *Message) *Message {
		if m != nil {
			return m
		}
		return st.in.Message
	}
	env := st.in.Envelope
	for _, a := range acts {
		switch a := a.(type) {
		case *Keep:
			st.store.deliver("INBOX", msgOf(a.Message), a.Flags)
			inbox = true
		case *FileInto:
			name := a.Mailbox
			if a.SpecialUse != "" {
				if n := st.store.withSpecialUse(a.SpecialUse); n != "" {
					name = n
				}
			}
			if !tsValidName(name) {
				st.errs = append(st.errs, fmt.Sprintf("failed to store into mailbox '%s': invalid folder name", name))
				ok = false
				continue
			}
			if st.store.get(name) == nil {
				if !a.Create {
					st.errs = append(st.errs, fmt.Sprintf("failed to store into mailbox '%s': Mailbox doesn't exist", name))
					ok = false
					continue
				}
				st.store.create(name)
			}
			st.store.deliver(name, msgOf(a.Message), a.Flags)
			if tsIsInbox(name) {
				inbox = true
			}
		case *Redirect:
			// As the delivery (lmtp) sends a redirect: a copy that came
			// around through this user before is not sent again, and the
			// message is kept instead.
			fw := Forward(st.opts.RedirectFrom, st.opts.UserEmail, env, st.in.Message)
			if fw.Loop {
				st.logf("redirect to <%s>: mail loop, keeping the message", a.Address)
				keep = true
				continue
			}
			var b bytes.Buffer
			b.WriteString(fw.Header)
			msgOf(a.Message).WriteTo(&b)
			st.smtp = append(st.smtp, tsMail{from: fw.From, to: smtpPath(a.Address), data: b.Bytes()})
		case *Reject:
			if env.From != "" {
				st.smtp = append(st.smtp, tsMail{from: "", to: env.From, data: tsBounce(env, a.Reason, st.in.Message)})
			}
		case *Vacation:
			st.smtp = append(st.smtp, tsMail{from: a.From, to: a.To, data: a.Reply})
		case *Discard:
		default:
			st.logf("test_result_execute: action %T is not carried out by the harness", a)
		}
	}
	if !ok && !inbox {
		st.store.deliver("INBOX", st.in.Message, nil)
		inbox = true
	}
	if keep && !inbox {
		st.store.deliver("INBOX", msgOf(keepMsg), keepFlags)
	}
	return ok
}

func tsIsInbox(name string) bool { return strings.EqualFold(name, "INBOX") }

// tsValidName refuses what no mailbox can be named: invalid UTF-8, and
// empty levels of the "/" hierarchy ("a//b", "/a", "a/").
func tsValidName(name string) bool {
	if name == "" || !utf8.ValidString(name) {
		return false
	}
	for _, level := range strings.Split(name, "/") {
		if level == "" {
			return false
		}
	}
	return true
}

// smtpPath writes an address as an SMTP path would carry it: a local
// part that is not a dot-atom is quoted.
func smtpPath(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr
	}
	local, domain := addr[:i], addr[i:]
	if isDotAtom(local) {
		return addr
	}
	var b strings.Builder
	b.WriteByte('"')
	for j := 0; j < len(local); j++ {
		if local[j] == '"' || local[j] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[j])
	}
	b.WriteByte('"')
	return b.String() + domain
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c >= 0x80 || c == '.' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// tsBounce composes the rejection notice Pigeonhole sends for reject
// (an RFC 3798 style report to the envelope sender).
func tsBounce(env Envelope, reason string, orig *Message) []byte {
	var b bytes.Buffer
	const boundary = "letterbox-testsuite-reject"
	fmt.Fprintf(&b, "From: Postmaster <postmaster@example.com>\r\n")
	fmt.Fprintf(&b, "To: <%s>\r\n", env.From)
	fmt.Fprintf(&b, "Subject: Automatically rejected mail\r\n")
	fmt.Fprintf(&b, "Auto-Submitted: auto-replied (rejected)\r\n")
	fmt.Fprintf(&b, "Precedence: bulk\r\n")
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=disposition-notification;\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&b, "This is a MIME-encapsulated message\r\n\r\n--%s\r\n", boundary)
	fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	fmt.Fprintf(&b, "Your message to <%s> was automatically rejected:\r\n%s\r\n\r\n--%s\r\n", env.To, reason, boundary)
	fmt.Fprintf(&b, "Content-Type: message/disposition-notification\r\n\r\n")
	fmt.Fprintf(&b, "Reporting-UA: letterbox; Letterbox Sieve\r\nFinal-Recipient: rfc822; %s\r\nDisposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n--%s\r\n", env.To, boundary)
	fmt.Fprintf(&b, "Content-Type: message/rfc822\r\n\r\n")
	orig.WriteTo(&b)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes()
}

// actionNameTS names an action as Pigeonhole's test_result_action does.
func actionNameTS(a Action) string {
	switch a := a.(type) {
	case *Keep:
		return "keep"
	case *FileInto:
		return "store"
	case *Reject:
		return "reject"
	case *Redirect, *Discard, *Vacation:
		return actionName(a)
	}
	name := fmt.Sprintf("%T", a)
	name = name[strings.LastIndexAny(name, ".*")+1:]
	return strings.ToLower(name)
}

type tsResultAction struct {
	m     *matcher
	index int
}

func buildTSResultAction(c *compiler, a *args) (any, error) {
	m, err := c.matcher(a, a.pos[0])
	if err != nil {
		return nil, err
	}
	if !a.has("comparator") {
		m.cmp = comparators["i;octet"]
	}
	t := &tsResultAction{m: m}
	if p := a.tags["index"]; p != nil {
		t.index = int(p.num)
	}
	return t, nil
}

func (t *tsResultAction) eval(r *runtime) (bool, error) {
	var names []string
	for _, a := range suiteOf(r).main.res.Actions {
		names = append(names, actionNameTS(a))
	}
	if t.index > 0 {
		if t.index > len(names) {
			names = nil
		} else {
			names = names[t.index-1 : t.index]
		}
	}
	return t.m.match(r, names)
}

// --- test_error ---

// tsErrorTest is test_error reduced to "the last compile or run failed"
// (class B1 of the conformance README): Pigeonhole's texts are its own,
// and it reports every error where we stop at the first. So a failed
// compile or run answers any :count with what the test expects from a
// failure (eq/ge/le true, ne/gt/lt false), and any :index or key match
// with true; without a failure the error list is empty and is matched
// normally.
type tsErrorTest struct{ m *matcher }

func buildTSError(c *compiler, a *args) (any, error) {
	m, err := c.matcher(a, a.pos[0])
	if err != nil {
		return nil, err
	}
	return &tsErrorTest{m: m}, nil
}

func (t *tsErrorTest) eval(r *runtime) (bool, error) {
	st := suiteOf(r)
	if len(st.errs) == 0 {
		return t.m.match(r, nil)
	}
	if t.m.typ == mCount {
		switch t.m.rel {
		case "eq", "ge", "le":
			// "eq 0" asks for no error at all.
			for _, k := range t.m.keys {
				if n, ok := numeric(r.expand(k)); ok && n == "0" && t.m.rel != "ge" {
					return false, nil
				}
			}
			return true, nil
		}
		return false, nil
	}
	return true, nil
}

// --- mail store ---

type tsStored struct {
	data  []byte
	flags []string
}

type tsMailbox struct {
	name string
	uses []string
	msgs []tsStored
}

// tsStore is the in-memory mail store: mailboxes by name (INBOX is
// case-insensitive, other names are exact).
type tsStore struct{ boxes map[string]*tsMailbox }

func newTSStore() *tsStore {
	s := &tsStore{boxes: map[string]*tsMailbox{}}
	s.create("INBOX")
	return s
}

func tsKey(name string) string {
	if tsIsInbox(name) {
		return "INBOX"
	}
	if len(name) > 6 && strings.EqualFold(name[:6], "INBOX.") || len(name) > 6 && strings.EqualFold(name[:6], "INBOX/") {
		return "INBOX" + name[5:]
	}
	return name
}

func (s *tsStore) get(name string) *tsMailbox { return s.boxes[tsKey(name)] }

func (s *tsStore) create(name string) *tsMailbox {
	k := tsKey(name)
	if mb := s.boxes[k]; mb != nil {
		return mb
	}
	mb := &tsMailbox{name: k}
	s.boxes[k] = mb
	return mb
}

// deliver stores m with flags. Like Dovecot with attachment detection
// on (as Pigeonhole's testsuite runs it), the store adds the keyword
// $HasAttachment or $HasNoAttachment.
func (s *tsStore) deliver(name string, m *Message, flags []string) {
	mb := s.create(name)
	data := m.Bytes()
	fl := slices.Clone(flags)
	if tsHasAttachment(data) {
		fl = addFlags(fl, []string{"$HasAttachment"})
	} else {
		fl = addFlags(fl, []string{"$HasNoAttachment"})
	}
	mb.msgs = append(mb.msgs, tsStored{data: data, flags: fl})
}

func tsHasAttachment(data []byte) bool {
	return bytes.Contains(bytes.ToLower(data), []byte("content-disposition: attachment"))
}

func (s *tsStore) withSpecialUse(use string) string {
	for _, mb := range s.boxes {
		for _, u := range mb.uses {
			if strings.EqualFold(u, use) {
				return mb.name
			}
		}
	}
	return ""
}

// MailboxExists implements Mailboxes.
func (s *tsStore) MailboxExists(name string) bool { return s.get(name) != nil }

// SpecialUseExists implements Mailboxes.
func (s *tsStore) SpecialUseExists(name string, uses []string) bool {
	var boxes []*tsMailbox
	if name == "" {
		for _, mb := range s.boxes {
			boxes = append(boxes, mb)
		}
	} else if mb := s.get(name); mb != nil {
		boxes = append(boxes, mb)
	}
	for _, mb := range boxes {
		all := true
		for _, u := range uses {
			found := false
			for _, have := range mb.uses {
				found = found || strings.EqualFold(u, have)
			}
			all = all && found
		}
		if all && len(uses) > 0 {
			return true
		}
	}
	return false
}

type tsMailboxCreate struct{ name str }

func buildTSMailboxCreate(c *compiler, a *args) (any, error) {
	s, err := c.str(a.pos[0], 0)
	return &tsMailboxCreate{name: s}, err
}

func (c *tsMailboxCreate) exec(r *runtime) error {
	suiteOf(r).store.create(r.expand(c.name))
	return nil
}

// --- scripts ---

// tsLoader finds included scripts as Pigeonhole's testsuite configures
// them: personal scripts in included/, global ones in included-global/,
// beside the .svtest file.
type tsLoader struct{ st *tsSuite }

func (l *tsLoader) LoadScript(location, name string) (*Script, error) {
	sub := "included"
	if location == "global" {
		sub = "included-global"
	}
	path := filepath.Join(l.st.dir, sub, name+".sieve")
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Compile(name, src, l.st.opts)
}

// compile compiles a script named relative to the .svtest file.
func (st *tsSuite) compile(rel string) (*Script, error) {
	path := filepath.Join(st.dir, rel)
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Named by its path: a script of the test folder is not the personal
	// script of the same base name (include/execute/namespace.sieve
	// includes :personal "namespace").
	name := strings.TrimSuffix(filepath.ToSlash(rel), ".sieve")
	return Compile(name, src, st.opts)
}

type tsCompileTest struct{ file str }

func buildTSCompile(c *compiler, a *args) (any, error) {
	s, err := c.str(a.pos[0], 0)
	return &tsCompileTest{file: s}, err
}

func (t *tsCompileTest) eval(r *runtime) (bool, error) {
	st := suiteOf(r)
	st.errs = nil
	rel := r.expand(t.file)
	s, err := st.compile(rel)
	if err != nil {
		st.errs = append(st.errs, err.Error())
		return false, nil
	}
	st.compiled, st.compiledPath, st.compiledTS = s, rel, s.Requires(testsuiteExt)
	return true, nil
}

type tsRunTest struct{ appendResult bool }

func buildTSRun(_ *compiler, a *args) (any, error) {
	return &tsRunTest{appendResult: a.has("append_result")}, nil
}

func (t *tsRunTest) eval(r *runtime) (bool, error) {
	st := suiteOf(r)
	st.errs = nil
	if st.compiled == nil {
		st.errs = append(st.errs, "testsuite: trying to run script, but no script compiled yet")
		return false, nil
	}
	if !t.appendResult {
		st.reset(r)
	}
	m := st.main
	if r != m {
		m.keep, m.flags = r.keep, r.flags
	}
	sub := newRuntime(st.ctx, st.in, st.compiled.limits)
	sub.res, sub.keep, sub.flags, sub.ext, sub.executed = m.res, m.keep, m.flags, m.ext, m.executed
	sub.msg = m.msg
	okRun := sub.runScript(st.compiled)
	m.keep, m.flags, m.msg = sub.keep, sub.flags, sub.msg
	if r != m {
		r.keep, r.flags, r.msg = m.keep, m.flags, m.msg
	}
	if !okRun {
		st.errs = append(st.errs, m.res.Err.Error())
		m.res.Err = nil
	}
	return okRun || st.compiledTS, nil
}

type tsMultiscriptTest struct{ files []str }

func buildTSMultiscript(c *compiler, a *args) (any, error) {
	l, err := c.strList(a.pos[0])
	return &tsMultiscriptTest{files: l}, err
}

// eval runs the scripts in sequence on a result of their own and
// carries it out, as sieve_multiscript does for sieve_before/after.
func (t *tsMultiscriptTest) eval(r *runtime) (bool, error) {
	st := suiteOf(r)
	st.errs = nil
	var scripts []*Script
	for _, f := range t.files {
		s, err := st.compile(r.expand(f))
		if err != nil {
			st.errs = append(st.errs, err.Error())
			return false, nil
		}
		scripts = append(scripts, s)
	}
	res := RunSequence(st.ctx, scripts, st.in)
	if res.Err != nil {
		st.errs = append(st.errs, res.Err.Error())
	}
	ok := st.execute(res.Actions, res.ImplicitKeep, res.ImplicitKeepFlags, res.ImplicitKeepMessage)
	return ok && res.Err == nil, nil
}

// test_binary_save/load: there are no binaries here; saving remembers
// the script's source and loading compiles it again.
type tsBinaryCmd struct {
	save bool
	name str
}

func buildTSBinary(c *compiler, a *args) (any, error) {
	s, err := c.str(a.pos[0], 0)
	return &tsBinaryCmd{save: a.n.name == "test_binary_save", name: s}, err
}

func (b *tsBinaryCmd) exec(r *runtime) error {
	st := suiteOf(r)
	name := r.expand(b.name)
	if b.save {
		if st.compiled == nil {
			return &tsFailure{reason: "test_binary_save: no script compiled"}
		}
		st.binaries[name] = st.compiledPath
		return nil
	}
	path, ok := st.binaries[name]
	if !ok {
		return &tsFailure{reason: fmt.Sprintf("test_binary_load: no binary '%s' saved", name)}
	}
	s, err := st.compile(path)
	if err != nil {
		return &tsFailure{reason: "test_binary_load: " + err.Error()}
	}
	st.compiled, st.compiledPath, st.compiledTS = s, path, s.Requires(testsuiteExt)
	return nil
}

// --- configuration ---

type tsConfigCmd struct {
	key, value str
	unset      bool
}

func buildTSConfigSet(c *compiler, a *args) (any, error) {
	k, err := c.str(a.pos[0], 0)
	if err != nil {
		return nil, err
	}
	cmd := &tsConfigCmd{key: k, unset: a.n.name == "test_config_unset"}
	if !cmd.unset {
		if cmd.value, err = c.str(a.pos[1], 0); err != nil {
			return nil, err
		}
	}
	return cmd, nil
}

func (c *tsConfigCmd) exec(r *runtime) error {
	st := suiteOf(r)
	key := r.expand(c.key)
	if c.unset {
		delete(st.config, key)
	} else {
		st.config[key] = r.expand(c.value)
	}
	if !tsApplySetting(st.opts, key, st.config[key], c.unset) {
		if !slices.Contains(st.unsupported, key) {
			st.unsupported = append(st.unsupported, key)
		}
	}
	if strings.HasPrefix(key, "sieve_editheader_header") {
		st.editHeaderFilters()
	}
	st.applyLimits()
	return nil
}

// editHeaderFilters sets the editheader options from Dovecot's filter
// settings: sieve_editheader_header lists the active filters by name;
// each one's settings (sieve_editheader_header/NAME/forbid_add = yes)
// stay set while the list changes.
func (st *tsSuite) editHeaderFilters() {
	var eh EditHeaderOptions
	for _, name := range strings.Fields(st.config["sieve_editheader_header"]) {
		prefix := "sieve_editheader_header/" + name + "/"
		if b, _ := tsBool(st.config[prefix+"forbid_add"]); b {
			eh.ForbidAdd = append(eh.ForbidAdd, name)
		}
		if b, _ := tsBool(st.config[prefix+"forbid_delete"]); b {
			eh.ForbidDelete = append(eh.ForbidDelete, name)
		}
	}
	st.opts.EditHeader = eh
}

type tsConfigReload struct{}

func buildTSConfigReload(*compiler, *args) (any, error) { return tsConfigReload{}, nil }

func (tsConfigReload) exec(r *runtime) error {
	suiteOf(r).applyLimits()
	return nil
}

// applyLimits makes changed limits hold for the running .svtest script
// too (Pigeonhole re-reads its settings on test_config_reload).
func (st *tsSuite) applyLimits() {
	if st.mainScript != nil {
		st.mainScript.limits = st.opts.limits()
	}
}

// tsSettings are the Dovecot settings test_config_set maps onto
// Options: name -> setter (unset passes ""). Extensions' own test files
// add theirs (ext_vacation_ts_test.go: sieve_vacation_*, sieve_user_email).
var tsSettings = map[string]func(o *Options, v string) bool{
	"sieve_max_script_size":             tsIntSetting(func(o *Options) *int { return &o.Limits.MaxScriptSize }),
	"sieve_max_actions":                 tsIntSetting(func(o *Options) *int { return &o.Limits.MaxActions }),
	"sieve_max_redirects":               tsIntSetting(func(o *Options) *int { return &o.Limits.MaxRedirects }),
	"sieve_variables_max_scope_size":    tsIntSetting(func(o *Options) *int { return &o.Limits.MaxVariables }),
	"sieve_variables_max_variable_size": tsIntSetting(func(o *Options) *int { return &o.Limits.MaxVariableLen }),
	"sieve_variables_max_value_size":    tsIntSetting(func(o *Options) *int { return &o.Limits.MaxVariableLen }),
	"sieve_include_max_includes":        tsIntSetting(func(o *Options) *int { return &o.Limits.MaxIncludes }),
	"sieve_include_max_nesting_depth":   tsIntSetting(func(o *Options) *int { return &o.Limits.MaxIncludeDepth }),
	"sieve_editheader_max_header_size":  tsIntSetting(func(o *Options) *int { return &o.Limits.MaxHeaderSize }),
	"sieve_max_cpu_time": func(o *Options, v string) bool {
		d, ok := tsDuration(v)
		o.Limits.MaxCPU = d
		return ok
	},
	"sieve_spamtest_status_header":    func(o *Options, v string) bool { o.Spamtest.SpamHeader = v; return true },
	"sieve_spamtest_status_type":      func(o *Options, v string) bool { o.Spamtest.SpamType = v; return true },
	"sieve_spamtest_score_max_header": func(o *Options, v string) bool { o.Spamtest.SpamMaxHeader = v; return true },
	"sieve_spamtest_score_max_value": func(o *Options, v string) bool {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		o.Spamtest.SpamMaxValue = f
		return err == nil || v == ""
	},
	"sieve_virustest_status_header":    func(o *Options, v string) bool { o.Spamtest.VirusHeader = v; return true },
	"sieve_virustest_score_max_header": func(o *Options, v string) bool { o.Spamtest.VirusMaxHeader = v; return true },
	"sieve_virustest_status_type":      func(o *Options, v string) bool { o.Spamtest.VirusType = v; return true },
	"sieve_virustest_score_max_value": func(o *Options, v string) bool {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		o.Spamtest.VirusMaxValue = f
		return err == nil || v == ""
	},
	"recipient_delimiter":            func(o *Options, v string) bool { o.RecipientDelimiter = v; return true },
	"sieve_duplicate_default_period": tsDurationSetting(func(o *Options) *time.Duration { return &o.DuplicatePeriod }),
	"sieve_duplicate_max_period":     tsDurationSetting(func(o *Options) *time.Duration { return &o.DuplicateMaxPeriod }),
	"sieve_editheader_header":        func(o *Options, v string) bool { return true }, // editHeaderFilters
	"sieve_redirect_envelope_from": func(o *Options, v string) bool {
		r, err := ParseRedirectFrom(v)
		o.RedirectFrom = r
		return err == nil
	},
	"sieve_editheader_protected": func(o *Options, v string) bool {
		f := strings.Fields(v)
		o.EditHeader.ForbidAdd, o.EditHeader.ForbidDelete = f, slices.Clone(f)
		return true
	},
	"sieve_editheader_forbid_add":    func(o *Options, v string) bool { o.EditHeader.ForbidAdd = strings.Fields(v); return true },
	"sieve_editheader_forbid_delete": func(o *Options, v string) bool { o.EditHeader.ForbidDelete = strings.Fields(v); return true },
}

func tsIntSetting(field func(o *Options) *int) func(o *Options, v string) bool {
	return func(o *Options, v string) bool {
		n, ok := tsSize(v)
		*field(o) = n
		return ok
	}
}

// tsApplySetting maps one Dovecot setting; false when it is not one we
// support. sieve_{spam,virus}test_text_value/N is the text for value N;
// sieve_editheader_header lists the header filters and
// sieve_editheader_header/NAME/forbid_{add,delete} set one.
func tsApplySetting(o *Options, key, value string, unset bool) bool {
	if unset {
		value = ""
	}
	if set, ok := tsSettings[key]; ok {
		return set(o, value)
	}
	for _, p := range []struct {
		prefix string
		list   *[]string
	}{{"sieve_spamtest_text_value/", &o.Spamtest.SpamTextValues}, {"sieve_virustest_text_value/", &o.Spamtest.VirusTextValues}} {
		if !strings.HasPrefix(key, p.prefix) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(key, p.prefix))
		if err != nil || n < 0 || n > 10 {
			return false
		}
		for len(*p.list) <= n {
			*p.list = append(*p.list, "")
		}
		(*p.list)[n] = value
		return true
	}
	if rest, ok := strings.CutPrefix(key, "sieve_editheader_header/"); ok {
		// Applied by editHeaderFilters from the whole configuration.
		i := strings.LastIndexByte(rest, '/')
		return i > 0 && (rest[i+1:] == "name" || rest[i+1:] == "forbid_add" || rest[i+1:] == "forbid_delete")
	}
	return false
}

func tsBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1":
		return true, true
	case "no", "false", "0", "":
		return false, true
	}
	return false, false
}

func tsDurationSetting(field func(o *Options) *time.Duration) func(o *Options, v string) bool {
	return func(o *Options, v string) bool {
		d, ok := tsDuration(v)
		*field(o) = d
		return ok
	}
}

// tsSize reads a Dovecot size ("4000", "1k", "2 M"); "" is the default.
func tsSize(v string) (int, bool) {
	v = strings.TrimSpace(strings.ToLower(v))
	if v == "" {
		return 0, true
	}
	i := 0
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	n, err := strconv.Atoi(v[:i])
	if err != nil {
		return 0, false
	}
	mult, ok := map[string]int{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30}[strings.TrimSpace(v[i:])]
	return n * mult, ok
}

// tsDuration reads a Dovecot interval ("1s", "10 secs", "500ms", "2");
// a bare number is seconds.
func tsDuration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(strings.ToLower(v))
	if v == "" {
		return 0, true
	}
	i := 0
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	n, err := strconv.Atoi(v[:i])
	if err != nil {
		return 0, false
	}
	unit := strings.TrimSpace(v[i:])
	switch {
	case unit == "" || strings.HasPrefix(unit, "s"):
		return time.Duration(n) * time.Second, true
	case strings.HasPrefix(unit, "ms") || strings.HasPrefix(unit, "milli"):
		return time.Duration(n) * time.Millisecond, true
	case strings.HasPrefix(unit, "m"):
		return time.Duration(n) * time.Minute, true
	case strings.HasPrefix(unit, "h"):
		return time.Duration(n) * time.Hour, true
	case strings.HasPrefix(unit, "d"):
		return time.Duration(n) * 24 * time.Hour, true
	}
	return 0, false
}
