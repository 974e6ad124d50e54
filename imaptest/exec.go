package imaptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// Status is the outcome of one script.
type Status int

const (
	Passed Status = iota
	Failed
	Skipped
)

func (s Status) String() string {
	switch s {
	case Passed:
		return "pass"
	case Failed:
		return "fail"
	}
	return "skip"
}

// Result is what one script run found.
type Result struct {
	Name     string
	Status   Status
	Reason   string   // why the script was skipped
	Failures []string // one report per failed command group (or setup step)
	Output   []string // the script's !output lines
	Duration time.Duration
}

// errAbort ends a script run early (the connection is unusable, or imaptest
// would have disconnected).
var errAbort = errors.New("script aborted")

// errSkipped ends a script run that cannot run on this server.
type errSkipped struct{ reason string }

func (e errSkipped) Error() string { return "skipped: " + e.reason }

// readError wraps an error reading from the server.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }
func (e readError) Unwrap() error { return e.err }

const maxTranscript = 400

var traceMu sync.Mutex

type maybeMatch struct {
	count int
	reply string
}

type scriptRun struct {
	s       *Script
	tg      *Target
	accts   []Account
	mailbox string
	v       *vars
	conns   []*conn
	src     *mboxSource
	res     *Result

	initDone bool
	initLog  []string

	// the command group being played
	g          *group
	gi         int
	found      []bool
	maybes     []maybeMatch
	mismatches int
	firstExtra string
	gfail      []string
	glog       []string
	cmdPending map[*command]*pendingCmd

	// setup: LIST/LSUB answers naming test mailboxes to remove
	collect         bool
	listed, lsubbed []string
}

// runScript plays one script with the given accounts (one per connection).
func runScript(s *Script, tg *Target, accts []Account) *Result {
	start := time.Now()
	r := &scriptRun{
		s:          s,
		tg:         tg,
		accts:      accts,
		mailbox:    tg.mailbox(),
		v:          newVars(),
		res:        &Result{Name: s.Name},
		cmdPending: map[*command]*pendingCmd{},
	}
	err := r.run()
	for _, c := range r.conns {
		if c != nil && c.nc != nil {
			_ = c.nc.Close()
		}
	}
	var skip errSkipped
	switch {
	case errors.As(err, &skip):
		r.res.Status = Skipped
		r.res.Reason = skip.reason
		r.res.Failures = nil
	case err != nil && !errors.Is(err, errAbort):
		r.res.Failures = append(r.res.Failures, r.initReport(err.Error()))
		r.res.Status = Failed
	case len(r.res.Failures) > 0 || err != nil:
		r.res.Status = Failed
	default:
		r.res.Status = Passed
	}
	r.res.Duration = time.Since(start)
	return r.res
}

func (r *scriptRun) logLine(dir byte, c *conn, b []byte) {
	var s string
	if dir == '>' {
		b = bytes.TrimSuffix(b, []byte("\r\n"))
		if len(b) > 300 {
			s = escapeBytes(b[:240]) + fmt.Sprintf("…(%d more bytes)", len(b)-240)
		} else {
			s = escapeBytes(b)
		}
	} else {
		s = abbreviate(b)
	}
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	line := fmt.Sprintf("%d%c %s", c.idx+1, dir, s)
	if r.tg.Trace != nil {
		traceMu.Lock()
		fmt.Fprintf(r.tg.Trace, "%s: %s\n", r.s.Name, line)
		traceMu.Unlock()
	}
	if r.g != nil {
		if len(r.glog) < maxTranscript {
			r.glog = append(r.glog, line)
		}
		return
	}
	if !r.initDone {
		r.initLog = append(r.initLog, line)
		if len(r.initLog) > maxTranscript {
			r.initLog = r.initLog[len(r.initLog)-maxTranscript:]
		}
	}
}

func (r *scriptRun) initReport(msg string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "setup failed: %s", msg)
	if len(r.initLog) > 0 {
		sb.WriteString("\n  transcript:")
		for _, l := range r.initLog {
			sb.WriteString("\n    " + l)
		}
	}
	return sb.String()
}

func (r *scriptRun) run() error {
	s := r.s
	// Variables known before the first command.
	for i := 0; i < s.Connections; i++ {
		a := r.accts[i]
		suffix := ""
		if i > 0 {
			suffix = strconv.Itoa(i + 1)
		}
		user, domain, found := strings.Cut(a.User, "@")
		if !found {
			domain = r.tg.host()
		}
		r.v.m["user"+suffix] = a.User
		r.v.m["username"+suffix] = user
		r.v.m["domain"+suffix] = domain
		r.v.m["password"+suffix] = a.Password
	}
	r.v.m["mailbox"] = r.mailbox
	r.v.m["mailbox_url"] = mailboxURL(r.mailbox)

	msgs, err := loadMbox(s.Mbox)
	if err != nil {
		return err
	}
	r.src = &mboxSource{msgs: msgs}

	// Connect; read the banners.
	firstGroup := 0
	for i := 0; i < s.Connections; i++ {
		nc, err := r.tg.dial()
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		c := &conn{idx: i, nc: nc, r: bufio.NewReaderSize(nc, 64<<10), timeout: r.tg.timeout(), box: r.mailbox, log: r.logLine}
		r.conns = append(r.conns, c)
		resp, err := c.readResponse()
		if err != nil {
			return fmt.Errorf("reading the banner: %w", err)
		}
		word := ""
		if len(resp.args) > 0 {
			word, _ = resp.args[0].atom()
		}
		word = strings.ToUpper(word)
		if resp.kind != respUntagged || (word != "OK" && word != "PREAUTH") {
			return fmt.Errorf("malformed banner %q", resp.raw)
		}
		c.loggedIn = word == "PREAUTH"
		if name, value := respCode(resp.args); name == "CAPABILITY" {
			c.setCaps(strings.Fields(value))
		} else if err := r.simpleOK(c, "CAPABILITY"); err != nil {
			return err
		}
		if s.bannerCheck && i == 0 && len(s.groups) > 0 {
			r.startGroup(0, s.groups[0])
			r.matchUntagged(c, resp.args)
			r.finishGroup()
			firstGroup = 1
		}
	}

	if s.State == StateNonAuth {
		for _, c := range r.conns {
			if missing := c.missingCaps(s.Capabilities); len(missing) > 0 {
				return errSkipped{"server lacks capability " + strings.Join(missing, " ")}
			}
		}
	} else {
		if err := r.setup(); err != nil {
			return err
		}
	}
	r.initDone = true

	for gi := firstGroup; gi < len(s.groups); gi++ {
		if err := r.runGroup(gi, s.groups[gi]); err != nil {
			return err
		}
	}
	return nil
}

func (r *scriptRun) setup() error {
	s := r.s
	for i, c := range r.conns {
		if c.loggedIn {
			continue
		}
		a := r.accts[i]
		p, err := r.simpleShown(c, "LOGIN "+quoteString(a.User)+" "+quoteString(a.Password),
			"LOGIN "+quoteString(a.User)+" \"***\"")
		if err != nil {
			return err
		}
		if p.status != "OK" {
			return fmt.Errorf("LOGIN as %s failed: %s", a.User, formatArgs(p.args))
		}
	}
	c0 := r.conns[0]
	if !c0.postLogin {
		if err := r.simpleOK(c0, "CAPABILITY"); err != nil {
			return err
		}
	}
	if missing := c0.missingCaps(s.Capabilities); len(missing) > 0 {
		return errSkipped{"server lacks capability " + strings.Join(missing, " ")}
	}

	// Remove what an earlier run left: every mailbox named like the test
	// mailbox, and every such subscription.
	r.collect = true
	mask := quoteString(r.mailbox + "*")
	list := r.send(c0, `LIST "" `+mask, nil)
	lsub := r.send(c0, `LSUB "" `+mask, nil)
	if err := r.wait(c0, list, lsub); err != nil {
		return err
	}
	r.collect = false
	for _, p := range []*pendingCmd{list, lsub} {
		if p.status != "OK" {
			return fmt.Errorf("%s failed: %s", p.text, formatArgs(p.args))
		}
	}
	var cleanup []*pendingCmd
	for _, x := range []struct {
		cmd   string
		names []string
	}{{"DELETE", r.listed}, {"UNSUBSCRIBE", r.lsubbed}} {
		names := dedupe(x.names)
		sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) > strings.ToLower(names[j]) })
		for _, n := range names {
			cleanup = append(cleanup, r.send(c0, x.cmd+" "+quoteString(n), nil))
		}
	}
	if err := r.wait(c0, cleanup...); err != nil {
		return err
	}
	for _, p := range cleanup {
		if p.status == "BAD" {
			return fmt.Errorf("%s failed: %s", p.text, formatArgs(p.args))
		}
	}
	if s.State < StateCreated {
		return nil
	}
	if !strings.EqualFold(r.mailbox, "INBOX") {
		if err := r.simpleOK(c0, "CREATE "+quoteString(r.mailbox)); err != nil {
			return err
		}
	}
	if s.State < StateAppended {
		return nil
	}
	for n := 0; s.Messages == AllMessages && !r.src.eof() || n < s.Messages; n++ {
		p := &pendingCmd{}
		if err := r.sendParts(c0, p, r.appendParts(quoteString(r.mailbox), true)); err != nil {
			return err
		}
		if err := r.wait(c0, p); err != nil {
			return err
		}
		if p.status != "OK" {
			return fmt.Errorf("%s failed: %s", p.text, formatArgs(p.args))
		}
	}
	if s.State < StateSelected {
		return nil
	}
	for _, c := range r.conns {
		if err := r.simpleOK(c, "SELECT "+quoteString(r.mailbox)); err != nil {
			return err
		}
	}
	return nil
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// quoteString quotes s as an IMAP quoted string, or as a literal when a
// quoted string cannot hold it.
func quoteString(s string) string {
	if strings.ContainsAny(s, "\r\n\x00") {
		return fmt.Sprintf("{%d}\r\n%s", len(s), s)
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (c *conn) setCaps(caps []string) {
	c.caps = caps
	c.postLogin = c.loggedIn
}

func (c *conn) missingCaps(required []string) []string {
	var missing []string
	for _, k := range required {
		if !c.hasCap(k) {
			missing = append(missing, k)
		}
	}
	return missing
}

// simpleOK sends a runner command and requires OK.
func (r *scriptRun) simpleOK(c *conn, text string) error {
	p, err := r.simpleShown(c, text, text)
	if err != nil {
		return err
	}
	if p.status != "OK" {
		return fmt.Errorf("%s failed: %s", p.text, formatArgs(p.args))
	}
	return nil
}

func (r *scriptRun) simpleShown(c *conn, text, shown string) (*pendingCmd, error) {
	p := &pendingCmd{shown: shown, login: strings.HasPrefix(text, "LOGIN ")}
	parts := splitLiterals([]byte(text))
	if err := r.sendParts(c, p, parts); err != nil {
		return nil, err
	}
	return p, r.wait(c, p)
}

// send sends a runner command (no literals expected) without waiting.
func (r *scriptRun) send(c *conn, text string, onReply func(*pendingCmd) error) *pendingCmd {
	p := &pendingCmd{onReply: onReply}
	if err := r.sendParts(c, p, splitLiterals([]byte(text))); err != nil {
		p.sendErr = err
	}
	return p
}

// wait reads and handles responses until the commands are answered.
func (r *scriptRun) wait(c *conn, ps ...*pendingCmd) error {
	for _, p := range ps {
		if p.sendErr != nil {
			return p.sendErr
		}
	}
	for {
		done := true
		for _, p := range ps {
			if !p.done {
				done = false
			}
		}
		if done {
			return nil
		}
		resp, err := c.readResponse()
		if err != nil {
			return readError{err}
		}
		if err := r.dispatch(c, resp); err != nil {
			return err
		}
	}
}

// segment is command text followed by an optional literal.
type segment struct {
	text   []byte // up to the literal's "{" (or "~{")
	lit    []byte
	hasLit bool
	binary bool // literal8
}

// splitLiterals cuts a command at its literals: a line ending in " {N}",
// " {N+}" or " ~{N}" is followed by N bytes sent as they are. Other line
// breaks are sent as written.
func splitLiterals(cmd []byte) []segment {
	var segs []segment
	var text []byte
	for {
		nl := bytes.IndexByte(cmd, '\n')
		if nl < 0 {
			break
		}
		line := bytes.TrimSuffix(cmd[:nl], []byte("\r"))
		n, ok := literalAtEnd(line)
		if ok {
			start := bytes.LastIndexByte(line, '{')
			binary := start > 0 && line[start-1] == '~'
			if binary {
				start--
			}
			if start == 0 || line[start-1] != ' ' {
				ok = false
			} else {
				rest := cmd[nl+1:]
				if n > len(rest) {
					n = len(rest)
				}
				segs = append(segs, segment{
					text:   append(text, line[:start]...),
					lit:    rest[:n],
					hasLit: true,
					binary: binary,
				})
				text = nil
				cmd = rest[n:]
				continue
			}
		}
		text = append(text, cmd[:nl+1]...)
		cmd = cmd[nl+1:]
	}
	return append(segs, segment{text: append(text, cmd...)})
}

// sendParts sends a command: with LITERAL+ all at once, else waiting for
// the server's "+" before each literal. A command the server answers
// before its literal is sent is not sent further.
func (r *scriptRun) sendParts(c *conn, p *pendingCmd, parts []segment) error {
	p.tag = c.nextTag()
	var shown bytes.Buffer
	for _, seg := range parts {
		shown.Write(seg.text)
		if seg.hasLit {
			fmt.Fprintf(&shown, "{%d}", len(seg.lit))
		}
	}
	p.text = shown.String()
	if p.shown == "" {
		p.shown = p.text
	}
	c.pending = append(c.pending, p)
	litPlus := c.hasCap("LITERAL+")
	buf := []byte(p.tag + " ")
	logged := []byte(p.tag + " " + p.shown)
	logThis := true
	flush := func() error {
		var err error
		if logThis {
			err = c.writeLogged(buf, logged)
			logThis = false
		} else {
			err = c.write(buf)
		}
		buf = buf[:0]
		return err
	}
	for _, seg := range parts {
		buf = append(buf, seg.text...)
		if !seg.hasLit {
			continue
		}
		if seg.binary {
			buf = append(buf, '~')
		}
		buf = append(buf, '{')
		buf = strconv.AppendInt(buf, int64(len(seg.lit)), 10)
		if litPlus {
			buf = append(buf, "+}\r\n"...)
			buf = append(buf, seg.lit...)
			continue
		}
		buf = append(buf, "}\r\n"...)
		if err := flush(); err != nil {
			return readError{err}
		}
		ok, err := r.waitContinuation(c, p)
		if err != nil {
			return err
		}
		if !ok {
			return nil // answered already (NO or BAD to the literal)
		}
		buf = append(buf, seg.lit...)
	}
	buf = append(buf, '\r', '\n')
	if err := flush(); err != nil {
		return readError{err}
	}
	return nil
}

func (r *scriptRun) waitContinuation(c *conn, p *pendingCmd) (bool, error) {
	c.waitCont, c.gotCont = true, false
	defer func() { c.waitCont = false }()
	for !c.gotCont && !p.done {
		resp, err := c.readResponse()
		if err != nil {
			return false, readError{err}
		}
		if err := r.dispatch(c, resp); err != nil {
			return false, err
		}
	}
	return c.gotCont, nil
}

// appendParts builds imaptest's APPEND of the next mbox message: to args
// (a mailbox, maybe flags), with the From_ line's date when addDate.
func (r *scriptRun) appendParts(args string, addDate bool) []segment {
	m := r.src.get()
	text := "APPEND " + args
	if addDate {
		text += ` "` + m.date.Format("02-Jan-2006 15:04:05 -0700") + `"`
	}
	return []segment{{text: []byte(text + " "), lit: m.data, hasLit: true}, {}}
}

func (r *scriptRun) dispatch(c *conn, resp *response) error {
	switch resp.kind {
	case respContinue:
		if c.waitCont {
			c.gotCont = true
			return nil
		}
		return r.abortf("unexpected continuation request: %s", resp.raw)
	case respUntagged:
		return r.onUntagged(c, resp.args)
	}
	return r.onTagged(c, resp)
}

// abortf records a failure that ends the script (imaptest disconnects on
// these).
func (r *scriptRun) abortf(format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if r.g != nil {
		r.gfail = append(r.gfail, msg)
		return errAbort
	}
	if !r.initDone {
		return errors.New(msg)
	}
	r.res.Failures = append(r.res.Failures, msg)
	return errAbort
}

func (r *scriptRun) onUntagged(c *conn, args []arg) error {
	first := ""
	if len(args) > 0 {
		first, _ = args[0].atom()
	}
	if first == "" {
		return r.abortf("invalid untagged reply: %s", formatArgs(args))
	}
	var expunged uint32
	if n, ok := uint32Str(first); ok {
		name := ""
		if len(args) > 1 {
			name, _ = args[1].atom()
		}
		if name == "" {
			return r.abortf("invalid untagged reply: %s", formatArgs(args))
		}
		switch strings.ToUpper(name) {
		case "EXISTS":
			if uint32(n) < c.count {
				return r.abortf("message count dropped %d -> %d", c.count, n)
			}
			c.count = uint32(n)
		case "EXPUNGE":
			if n == 0 || uint32(n) > c.count {
				return r.abortf("tried to expunge sequence %d with only %d messages", n, c.count)
			}
			c.count--
			expunged = uint32(n)
		}
	} else {
		switch strings.ToUpper(first) {
		case "BYE":
			c.seenBye = true
			c.count = 0
		case "CAPABILITY":
			var caps []string
			for _, a := range args[1:] {
				if s, ok := a.astring(); ok {
					caps = append(caps, s)
				}
			}
			c.setCaps(caps)
		case "OK":
			if name, value := respCode(args); name == "CAPABILITY" {
				c.setCaps(strings.Fields(value))
			}
		case "LIST", "LSUB":
			if r.collect && len(args) >= 4 && args[1].kind == argList {
				if name, ok := args[3].astring(); ok {
					if strings.EqualFold(first, "LIST") {
						r.listed = append(r.listed, name)
					} else {
						r.lsubbed = append(r.lsubbed, name)
					}
				}
			}
		case "VANISHED":
			// Without UIDs at hand, count the UIDs as expunged messages.
			if len(args) > 1 && args[1].kind != argList {
				if set, ok := args[1].atom(); ok {
					n := seqSetSize(set)
					if n > c.count {
						n = c.count
					}
					c.count -= n
				}
			}
		}
	}
	if r.g != nil && r.initDone {
		r.matchUntagged(c, args)
	}
	if expunged > 0 {
		r.v.expunge(expunged)
	}
	return nil
}

func seqSetSize(set string) uint32 {
	var n uint32
	for _, part := range strings.Split(set, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, _ := strconv.ParseUint(lo, 10, 32)
		b := a
		if isRange {
			b, _ = strconv.ParseUint(hi, 10, 32)
		}
		if a > b {
			a, b = b, a
		}
		n += uint32(b - a + 1)
	}
	return n
}

func (r *scriptRun) onTagged(c *conn, resp *response) error {
	var p *pendingCmd
	for i, q := range c.pending {
		if q.tag == resp.tag {
			p = q
			c.pending = append(c.pending[:i:i], c.pending[i+1:]...)
			break
		}
	}
	if p == nil {
		return r.abortf("unexpected tagged reply: %s", resp.raw)
	}
	p.done = true
	status := ""
	if len(resp.args) > 0 {
		status, _ = resp.args[0].atom()
	}
	status = strings.ToUpper(status)
	if status != "OK" && status != "NO" && status != "BAD" {
		return r.abortf("broken tagged reply: %s", resp.raw)
	}
	p.status, p.args = status, resp.args
	if status == "OK" {
		switch {
		case p.login:
			c.loggedIn = true
		case p.closes:
			c.count = 0
		}
	}
	if name, value := respCode(resp.args); name == "CAPABILITY" {
		c.setCaps(strings.Fields(value))
	}
	if p.onReply != nil {
		if err := p.onReply(p); err != nil {
			return err
		}
	}
	if status == "BAD" && !p.expectBad {
		return r.abortf("BAD reply for command: %s", p.text)
	}
	return nil
}

// mailboxURL renders a (modified UTF-7) mailbox name as an IMAP URL path.
func mailboxURL(name string) string {
	utf8 := decodeMUTF7(name)
	var sb strings.Builder
	for _, b := range []byte(utf8) {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9',
			strings.IndexByte("-._~!$&'()*+,=:@/", b) >= 0:
			sb.WriteByte(b)
		default:
			fmt.Fprintf(&sb, "%%%02X", b)
		}
	}
	return sb.String()
}

// decodeMUTF7 decodes modified UTF-7 (RFC 3501 section 5.1.3); invalid input
// is returned unchanged.
func decodeMUTF7(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			sb.WriteByte(s[i])
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return s
		}
		enc := s[i+1 : i+1+end]
		i += end + 1
		if enc == "" {
			sb.WriteByte('&')
			continue
		}
		var bits, nbits uint32
		var units []uint16
		var bytesOut []byte
		for k := 0; k < len(enc); k++ {
			v := strings.IndexByte(alphabet, enc[k])
			if v < 0 {
				return s
			}
			bits = bits<<6 | uint32(v)
			nbits += 6
			if nbits >= 8 {
				nbits -= 8
				bytesOut = append(bytesOut, byte(bits>>nbits))
			}
		}
		for k := 0; k+1 < len(bytesOut); k += 2 {
			units = append(units, uint16(bytesOut[k])<<8|uint16(bytesOut[k+1]))
		}
		sb.WriteString(string(utf16.Decode(units)))
	}
	return sb.String()
}

// appendHasBody reports whether APPEND (or REPLACE) arguments carry a
// message: mailbox, optional flags, optional date, then a literal or
// CATENATE. Without one, the runner appends the next mbox message.
func appendHasBody(rest []byte, replace bool) bool {
	args, err := parseArgs(rest, 0)
	if err != nil || len(args) == 0 {
		return false
	}
	i := 0
	if replace {
		i++
	}
	if i >= len(args) {
		return false
	}
	if i+1 < len(args) && args[i+1].kind == argList {
		i++
	}
	if i+1 < len(args) && args[i+1].kind == argString {
		i++
	}
	if i+1 >= len(args) {
		return false
	}
	a := &args[i+1]
	s, _ := a.atom()
	return a.kind == argLiteral || strings.EqualFold(s, "catenate")
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// firstAstring returns the first argument of text as a string.
func firstAstring(text []byte) (string, bool) {
	args, err := parseArgs(text, 0)
	if err != nil || len(args) == 0 {
		return "", false
	}
	return args[0].astring()
}

func (r *scriptRun) startGroup(gi int, g *group) {
	r.g, r.gi = g, gi
	r.found = make([]bool, len(g.untagged))
	r.maybes = make([]maybeMatch, len(g.untagged))
	r.mismatches = 0
	r.firstExtra = ""
	r.gfail = nil
	r.glog = nil
}

func (r *scriptRun) runGroup(gi int, g *group) error {
	c := r.conns[g.conn]
	r.startGroup(gi, g)
	r.v.seqmap = r.v.seqmap[:0]
	for i := uint32(1); i <= c.count; i++ {
		r.v.seqmap = append(r.v.seqmap, i)
	}
	if c.closed {
		r.gfail = append(r.gfail, fmt.Sprintf("connection %d is closed", g.conn+1))
		r.finishGroup()
		return errAbort
	}
	err := func() error {
		for _, cmd := range g.commands {
			if err := r.sendScriptCommand(c, g, cmd); err != nil {
				return err
			}
		}
		for len(c.pending) > 0 {
			resp, err := c.readResponse()
			if err != nil {
				return readError{err}
			}
			if err := r.dispatch(c, resp); err != nil {
				return err
			}
		}
		return nil
	}()
	var rerr readError
	if errors.As(err, &rerr) {
		err = r.disconnected(c, g, rerr.err)
	}
	r.finishGroup()
	return err
}

// disconnected handles the server closing a connection during a group:
// fine after an expected BYE when every unanswered command expects "",
// otherwise a failure.
func (r *scriptRun) disconnected(c *conn, g *group, err error) error {
	c.closed = true
	if errors.Is(err, io.EOF) && g.haveBye && c.seenBye {
		for _, p := range c.pending {
			if p.script == nil {
				continue
			}
			rep := p.script.reply
			if len(rep) != 1 || rep[0].kind != argAtom || rep[0].s != "" {
				r.gfail = append(r.gfail, fmt.Sprintf(
					"command expected '%s' as tagged reply - only \"\" allowed when BYE happens", formatArgs(rep)))
			}
		}
		c.pending = nil
		return nil
	}
	c.pending = nil
	if errors.Is(err, os.ErrDeadlineExceeded) {
		r.gfail = append(r.gfail, fmt.Sprintf("no reply within %v (the server hangs?)", c.timeout))
	} else {
		r.gfail = append(r.gfail, fmt.Sprintf("unexpected disconnection: %v", err))
	}
	return errAbort
}

func (r *scriptRun) sendScriptCommand(c *conn, g *group, cmd *command) error {
	text, err := r.v.expandCommand(cmd.text, false)
	if err != nil {
		r.gfail = append(r.gfail, fmt.Sprintf("line %d: %v", cmd.line, err))
		return nil
	}
	p := &pendingCmd{script: cmd, onReply: r.scriptReply}
	if len(cmd.reply) > 0 {
		if s, ok := cmd.reply[0].atom(); ok && strings.EqualFold(s, "bad") {
			p.expectBad = true
		}
	}
	var parts []segment
	switch {
	case strings.EqualFold(string(text), "append"):
		parts = r.appendParts(quoteString(c.box), true)
		c.logoutSent = false
	case hasPrefixFold(text, "append ") && !appendHasBody(text[7:], false):
		parts = r.appendParts(string(text[7:]), false)
		c.logoutSent = false
	case hasPrefixFold(text, "replace ") && !appendHasBody(text[8:], true):
		parts = r.appendParts(string(text[8:]), false)
		parts[0].text = append([]byte("REPLACE"), parts[0].text[len("APPEND"):]...)
		c.logoutSent = false
	case hasPrefixFold(text, "uid replace ") && !appendHasBody(text[12:], true):
		parts = r.appendParts(string(text[12:]), false)
		parts[0].text = append([]byte("UID REPLACE"), parts[0].text[len("APPEND"):]...)
		c.logoutSent = false
	default:
		parts = splitLiterals(text)
		c.logoutSent = cmd.line == 0 || strings.EqualFold(string(text), "logout") || g.haveBye
		word, rest, _ := cutWord(text)
		switch strings.ToUpper(string(word)) {
		case "SELECT", "EXAMINE":
			// imaptest keeps its view of a mailbox re-selected under
			// the same name, and starts afresh for another.
			if name, ok := firstAstring(rest); ok && name != c.box {
				c.count = 0
				c.box = name
			}
		case "CLOSE", "UNSELECT":
			p.closes = len(rest) == 0
		}
	}
	r.cmdPending[cmd] = p
	return r.sendParts(c, p, parts)
}

// scriptReply checks a script command's tagged reply.
func (r *scriptRun) scriptReply(p *pendingCmd) error {
	r.v.m["tag"] = p.tag
	n := r.v.matchArgs(p.script.reply, p.args, int(^uint(0)>>1), true)
	delete(r.v.m, "tag")
	if n != full {
		r.gfail = append(r.gfail, fmt.Sprintf("expected tagged reply '%s', got '%s'",
			formatArgs(p.script.reply), formatArgs(p.args)))
	}
	return nil
}

// matchUntagged checks one untagged reply against the group's expected
// lines, as imaptest does: a reply may satisfy several "*" lines, a "!" match
// fails at once, variables bound by a reply that matched nothing are undone.
func (r *scriptRun) matchUntagged(c *conn, args []arg) {
	g := r.g
	if len(g.untagged) == 0 && (r.s.IgnoreExtraUntagged || c.logoutSent) {
		return
	}
	prefix := false
	if s, ok := args[0].atom(); ok {
		switch strings.ToUpper(s) {
		case "OK", "NO", "BAD", "BYE":
			prefix = true // free text follows the response code
		}
	}
	tag := ""
	if len(g.commands) > 0 {
		if p := r.cmdPending[g.commands[0]]; p != nil && !p.done {
			tag = p.tag
		}
	}
	r.v.added = r.v.added[:0]
	matched := false
	for i := range g.untagged {
		if r.found[i] {
			continue
		}
		u := &g.untagged[i]
		if tag != "" {
			r.v.m["tag"] = tag
		}
		n := r.v.matchArgs(u.args, args, int(^uint(0)>>1), prefix)
		if tag != "" {
			delete(r.v.m, "tag")
		}
		if n == full {
			if u.existence == mustNotExist {
				r.gfail = append(r.gfail, fmt.Sprintf("unexpected untagged match:\n    match: ! %s\n    reply: * %s",
					escapeBytes([]byte(u.text)), formatArgs(args)))
				return
			}
			r.found[i] = true
			matched = true
			r.v.added = r.v.added[:0]
			if g.ordered {
				break
			}
			continue
		}
		if r.maybes[i].count < n {
			r.maybes[i] = maybeMatch{n, formatArgs(args)}
		}
		r.v.revertAdded()
		if g.ordered && u.existence == mustExist {
			break
		}
	}
	if !matched {
		r.mismatches++
		if !r.s.IgnoreExtraUntagged && r.firstExtra == "" {
			r.firstExtra = formatArgs(args)
		}
	}
}

func (r *scriptRun) finishGroup() {
	g := r.g
	missing, first := 0, -1
	for i := range g.untagged {
		if g.untagged[i].existence == mustExist && !r.found[i] {
			missing++
			if first < 0 {
				first = i
			}
		}
	}
	if missing > 0 {
		u := &g.untagged[first]
		expanded, _ := r.v.expandCommand([]byte(u.text), true)
		r.gfail = append(r.gfail, fmt.Sprintf(
			"missing %d untagged replies (%d mismatches)\n    first unexpanded: * %s\n    first expanded:   * %s\n    best match:       * %s",
			missing, r.mismatches, escapeBytes([]byte(u.text)), escapeBytes(expanded), r.maybes[first].reply))
	}
	if r.firstExtra != "" {
		r.gfail = append(r.gfail, fmt.Sprintf("%d unexpected untagged replies received, first: %s",
			r.mismatches, r.firstExtra))
	}
	for _, o := range g.output {
		out, err := r.v.expandCommand([]byte(o), false)
		if err != nil {
			r.gfail = append(r.gfail, fmt.Sprintf("!output %s: %v", o, err))
			continue
		}
		r.res.Output = append(r.res.Output, string(out))
	}
	if len(r.gfail) > 0 {
		r.res.Failures = append(r.res.Failures, r.groupReport())
	}
	if g.sleep > 0 {
		time.Sleep(g.sleep)
	}
	r.g = nil
}

// groupReport describes a failed command group: what was sent, what was
// expected (and which expectations were met), what went wrong and the
// group's transcript.
func (r *scriptRun) groupReport() string {
	g := r.g
	var sb strings.Builder
	if g.implicit {
		fmt.Fprintf(&sb, "command group %d/%d (the implicit LOGOUT) on connection %d:\n", r.gi+1, len(r.s.groups), g.conn+1)
	} else {
		fmt.Fprintf(&sb, "command group %d/%d (line %d) on connection %d:\n", r.gi+1, len(r.s.groups), g.line, g.conn+1)
	}
	for _, cmd := range g.commands {
		reply := formatArgs(cmd.reply)
		if reply == "" {
			reply = `""`
		}
		fmt.Fprintf(&sb, "  %s  [expects %s]\n", shorten(cmd.text), reply)
	}
	for _, f := range r.gfail {
		sb.WriteString("  - " + strings.ReplaceAll(f, "\n", "\n  ") + "\n")
	}
	if len(g.untagged) > 0 {
		sb.WriteString("  expected untagged replies:\n")
		for i := range g.untagged {
			u := &g.untagged[i]
			mark := "          "
			switch {
			case r.found[i] && u.existence == mustExist:
				mark = "[seen]    "
			case u.existence == mustExist:
				mark = "[MISSING] "
			case r.found[i]:
				mark = "[seen]    "
			}
			fmt.Fprintf(&sb, "    %s%s %s\n", mark, u.existence, shorten([]byte(u.text)))
		}
	}
	if len(r.glog) > 0 {
		sb.WriteString("  transcript:\n")
		for _, l := range r.glog {
			sb.WriteString("    " + l + "\n")
		}
	}
	return strings.TrimRight(sb.String(), "\n")
}

// shorten renders script text on one line, cut after 200 bytes.
func shorten(b []byte) string {
	if len(b) > 200 {
		return escapeBytes(b[:200]) + "…"
	}
	return escapeBytes(b)
}

// Account is a user the runner logs in as.
type Account struct {
	User, Password string
}

// dialTCP is the default dialer.
func dialTCP(addr string, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, timeout)
}
