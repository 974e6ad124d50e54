package sieve

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"letterbox/message"
)

// The vacation extension (RFC 5230) and vacation-seconds (RFC 6131).
// The run decides whether to answer (the rules of RFC 5230 section 4 and
// RFC 3834) and composes the whole reply; the delivery side only sends
// it and records Result.Track once the message is delivered.

func init() {
	registerExtension(&extDef{name: "vacation"})
	// vacation-seconds brings the vacation command with it (RFC 6131
	// section 2: requiring it alone is enough).
	registerExtension(&extDef{name: "vacation-seconds", implies: []string{"vacation"}})
	register(&cmdDef{name: "vacation", ext: "vacation", tags: []tagDef{
		{name: "days", param: aNumber, group: "period"},
		{name: "seconds", ext: "vacation-seconds", param: aNumber, group: "period"},
		{name: "subject", param: aString},
		{name: "from", param: aString},
		{name: "addresses", param: aStringList},
		{name: "mime"},
		{name: "handle", param: aString},
	}, pos: []argType{aString}, minPos: -1, build: buildVacation})
}

const day = 24 * time.Hour

// maxSubjectRunes bounds the reply's subject, as Pigeonhole does.
const maxSubjectRunes = 256

type vacationCmd struct {
	pos        Pos
	reason     str
	subject    str
	hasSubject bool
	from       str
	hasFrom    bool
	addresses  []str
	mime       bool
	handle     str
	period     time.Duration
}

// vacationState is what a run remembers about its vacation command, so
// that a reply the RFC 3834 rules suppressed still counts for the
// duplicate and reject rules.
type vacationState struct {
	suppressed bool
}

func buildVacation(c *compiler, a *args) (any, error) {
	v := &vacationCmd{pos: a.n.pos, mime: a.has("mime")}
	var err error
	if v.reason, err = c.str(a.pos[0], 0); err != nil {
		return nil, err
	}
	if p, ok := a.tags["subject"]; ok {
		if v.subject, err = c.str(p, 0); err != nil {
			return nil, err
		}
		v.hasSubject = true
	}
	if p, ok := a.tags["from"]; ok {
		if v.from, err = c.str(p, 0); err != nil {
			return nil, err
		}
		if v.from.parts == nil {
			if _, err := mail.ParseAddress(v.from.lit); err != nil {
				return nil, errorAt(p.pos, "specified :from address '%s' is invalid for vacation action: %v", v.from.lit, err)
			}
		}
		v.hasFrom = true
	}
	if p, ok := a.tags["addresses"]; ok {
		if v.addresses, err = c.strList(p); err != nil {
			return nil, err
		}
	}
	var given time.Duration
	hasPeriod := false
	if p, ok := a.tags["days"]; ok {
		given, hasPeriod = scaledPeriod(p.num, day), true
	}
	if p, ok := a.tags["seconds"]; ok {
		given, hasPeriod = scaledPeriod(p.num, time.Second), true
	}
	v.period = c.opts.vacationPeriod(given, hasPeriod)
	if p, ok := a.tags["handle"]; ok {
		if v.handle, err = c.str(p, 0); err != nil {
			return nil, err
		}
	} else {
		// The default handle is made of the arguments as written
		// (RFC 5230 section 4.2: replies with different text are
		// different replies), as Pigeonhole builds it.
		h := a.pos[0].strs[0]
		h += tagSource(a, "subject", "<default-subject>")
		h += tagSource(a, "from", "<default-from>")
		if v.mime {
			h += "<MIME>"
		} else {
			h += "<NO-MIME>"
		}
		arg := &argument{pos: a.n.pos, strs: []string{h}}
		if v.handle, err = c.str(arg, 0); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func tagSource(a *args, tag, def string) string {
	if p := a.tags[tag]; p != nil {
		return p.strs[0]
	}
	return def
}

// scaledPeriod is n units, saturating instead of overflowing.
func scaledPeriod(n uint64, unit time.Duration) time.Duration {
	if n > uint64(1<<62)/uint64(unit) {
		return 1 << 62
	}
	return time.Duration(n) * unit
}

// vacationPeriod applies the configured default and bounds to :days or
// :seconds (RFC 5230 section 4.1, RFC 6131 section 2).
func (o *Options) vacationPeriod(given time.Duration, has bool) time.Duration {
	var v VacationOptions
	if o != nil {
		v = o.Vacation
	}
	min := v.MinPeriod
	switch {
	case min == 0:
		min = day
	case min < 0:
		min = 0
	}
	p := v.DefaultPeriod
	if p <= 0 {
		p = 7 * day
	}
	if has {
		p = given
	}
	if p < min {
		p = min
	}
	if v.MaxPeriod > 0 && p > v.MaxPeriod {
		p = v.MaxPeriod
	}
	return p
}

func (v *vacationCmd) exec(r *runtime) error {
	if st, ok := r.ext["vacation"].(*vacationState); ok && st.suppressed {
		return r.errorf(v.pos, "duplicate vacation action")
	}
	var opts VacationOptions
	if r.script.opts != nil {
		opts = r.script.opts.Vacation
	}
	handle := r.expand(v.handle)
	sender := bareAddress(r.in.Envelope.From)
	var addresses []string
	for _, s := range v.addresses {
		// Items that are not addresses are ignored (as Pigeonhole does).
		if a, err := mail.ParseAddress(r.expand(s)); err == nil {
			addresses = append(addresses, a.Address)
		}
	}
	key := vacationKey(sender, handle)
	smtpFrom, replyFrom, ok := r.vacationDecide(opts, sender, addresses, key)
	if !ok {
		// Not answered, but the command still ran: a later vacation or
		// reject conflicts with it as with a sent one.
		for _, a := range r.res.Actions[r.executed:] {
			if _, dup := a.(*Vacation); dup {
				return r.errorf(v.pos, "duplicate vacation action")
			}
			if isReject(a) {
				return r.errorf(v.pos, "vacation action conflicts with earlier %s action", actionName(a))
			}
		}
		r.ext["vacation"] = &vacationState{suppressed: true}
		return nil
	}
	if v.hasFrom {
		if s := strings.TrimSpace(r.expand(v.from)); s != "" {
			if a, err := mail.ParseAddress(s); err == nil {
				replyFrom = a
			}
		}
	}
	subject := ""
	if v.hasSubject {
		subject = r.expand(v.subject)
	}
	act := &Vacation{
		To:     sender,
		Handle: handle,
		Period: v.period,
		Reply:  r.composeReply(opts, v, replyFrom, sender, subject, r.expand(v.reason)),
	}
	if opts.SendFromRecipient {
		act.From = smtpFrom
	}
	if err := r.addAction(v.pos, act, false); err != nil {
		return err
	}
	r.ext["vacation"] = &vacationState{}
	if v.period > 0 {
		r.res.Track = append(r.res.Track, TrackEntry{Kind: "vacation", Key: key, Period: v.period})
	}
	return nil
}

// vacationKey identifies "this reply to this sender" for the tracker
// (RFC 5230 section 4.2: the handle and the sender).
func vacationKey(sender, handle string) string {
	h := sha256.Sum256([]byte(strings.ToLower(sender) + "\x00" + handle))
	return hex.EncodeToString(h[:])
}

// bareAddress strips the angle brackets of an envelope address.
func bareAddress(s string) string {
	s = strings.TrimSpace(s)
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}

// listFields mark mailing list traffic (RFC 2369, RFC 2919).
var listFields = []string{"list-id", "list-owner", "list-subscribe", "list-post", "list-unsubscribe", "list-help", "list-archive"}

// myAddressFields are where the user's own address must appear for a
// reply (RFC 5230 section 4.5).
var myAddressFields = []string{"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"}

// vacationDecide applies the rules that suppress a reply (RFC 5230
// sections 4.2, 4.5 and 4.6, RFC 3834 section 2) in Pigeonhole's order.
// It returns the user's address the message was sent to (the envelope
// sender when SendFromRecipient) and the reply's From address.
func (r *runtime) vacationDecide(opts VacationOptions, sender string, addresses []string, key string) (string, *mail.Address, bool) {
	recipient := bareAddress(r.in.Envelope.To)
	if recipient == "" || sender == "" {
		return "", nil, false // never answer the null sender (RFC 3834 section 2)
	}
	if sameAddress(sender, recipient) {
		return "", nil, false
	}
	for _, a := range addresses {
		if sameAddress(sender, a) {
			return "", nil, false
		}
	}
	if r.in.Tracker != nil && r.in.Tracker.Seen("vacation", key) {
		return "", nil, false // answered within the period (RFC 5230 section 4.2)
	}
	m := r.in.Message
	for _, f := range listFields {
		if len(m.rawValues(f)) > 0 {
			return "", nil, false
		}
	}
	for _, v := range m.rawValues("auto-submitted") {
		// Anything but "no" is automatic (RFC 3834 section 5); the
		// keyword may be followed by parameters or a comment.
		if i := strings.IndexAny(v, ";("); i >= 0 {
			v = v[:i]
		}
		if !strings.EqualFold(strings.TrimSpace(v), "no") {
			return "", nil, false
		}
	}
	for _, v := range m.rawValues("precedence") {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "junk", "bulk", "list":
			return "", nil, false
		}
	}
	for _, v := range m.rawValues("x-auto-response-suppress") {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if strings.EqualFold(f, "All") || strings.EqualFold(f, "OOF") {
				return "", nil, false
			}
		}
	}
	if isSystemAddress(sender) {
		return "", nil, false
	}
	orig := ""
	if opts.UseOriginalRecipient {
		orig = bareAddress(r.in.Envelope.OrigTo)
	}
	user := ""
	if r.script.opts != nil {
		user = bareAddress(r.script.opts.UserEmail)
	}
	envFrom := recipient
	if orig != "" {
		envFrom = orig
	}
	for _, f := range myAddressFields {
		vals := m.rawValues(f)
		if len(vals) == 0 {
			continue
		}
		switch {
		case fieldsContain(vals, recipient):
			return recipient, &mail.Address{Address: recipient}, true
		case orig != "" && fieldsContain(vals, orig):
			return orig, &mail.Address{Address: orig}, true
		}
		for _, a := range addresses {
			if fieldsContain(vals, a) {
				// The user may choose the From field, not the envelope.
				return envFrom, &mail.Address{Address: a}, true
			}
		}
		if user != "" && fieldsContain(vals, user) {
			return user, &mail.Address{Address: user}, true
		}
	}
	if !opts.DontCheckRecipient {
		return "", nil, false // not sent to the user directly (RFC 5230 section 4.5)
	}
	from := user
	if from == "" {
		from = envFrom
	}
	return envFrom, &mail.Address{Address: from}, true
}

// isSystemAddress recognizes senders that are programs, not people
// (RFC 3834 section 2: owner-*, *-request, MAILER-DAEMON ...).
func isSystemAddress(addr string) bool {
	local, _ := splitAddr(addr)
	l := strings.ToLower(local)
	return l == "mailer-daemon" || l == "listserv" || l == "majordomo" ||
		strings.Contains(l, "-request") || strings.HasPrefix(l, "owner-")
}

func sameAddress(a, b string) bool { return strings.EqualFold(bareAddress(a), bareAddress(b)) }

// fieldsContain reports whether addr is one of the addresses in the
// header values.
func fieldsContain(vals []string, addr string) bool {
	for _, v := range vals {
		for _, a := range message.ParseAddressList(v) {
			if a.IsGroupStart() || a.IsGroupEnd() || a.Host == message.MissingDomain {
				continue
			}
			if sameAddress(a.Mailbox+"@"+a.Host, addr) {
				return true
			}
		}
	}
	return false
}

// replyRecipient is the reply's To field: the sender as one of the
// Sender, Resent-From or From fields names it (with its display name),
// or the bare envelope sender.
func (r *runtime) replyRecipient(opts VacationOptions, sender string) *mail.Address {
	for _, f := range []string{"sender", "resent-from", "from"} {
		vals := r.in.Message.rawValues(f)
		if len(vals) == 0 {
			continue
		}
		for _, a := range message.ParseAddressList(vals[0]) {
			if a.IsGroupStart() || a.IsGroupEnd() || a.Host == message.MissingDomain || a.Mailbox == message.MissingMailbox {
				continue
			}
			addr := a.Mailbox + "@" + a.Host
			if opts.ToHeaderIgnoreEnvelope || sameAddress(addr, sender) {
				return &mail.Address{Name: decodeWords(a.Name), Address: addr}
			}
		}
	}
	return &mail.Address{Address: sender}
}

// composeReply writes the reply message (RFC 5230 section 5, RFC 3834
// section 3), CRLF line ends throughout.
func (r *runtime) composeReply(opts VacationOptions, v *vacationCmd, from *mail.Address, sender, subject, reason string) []byte {
	if strings.TrimSpace(subject) == "" {
		subject = r.defaultSubject(opts)
	}
	subject = sanitizeSubject(subject)
	domain := "localhost"
	if _, d := splitAddr(from.Address); d != "" {
		domain = d
	}
	var b strings.Builder
	hdr := func(name, value string) {
		b.WriteString(name + ": " + value + "\r\n")
	}
	hdr("Message-ID", newMessageID(domain))
	hdr("Date", r.now.Format(time.RFC1123Z))
	hdr("From", from.String())
	hdr("To", r.replyRecipient(opts, sender).String())
	hdr("Subject", encodeHeaderText(subject))
	// In-Reply-To and References make the reply part of the thread
	// (RFC 5230 section 5.8).
	id := ""
	if ids := r.in.Message.rawValues("message-id"); len(ids) > 0 {
		id = strings.TrimSpace(ids[0])
	}
	refs := ""
	if rv := r.in.Message.rawValues("references"); len(rv) > 0 {
		refs = strings.TrimSpace(rv[0])
	}
	switch {
	case id != "" && refs != "":
		hdr("In-Reply-To", id)
		hdr("References", refs+"\r\n "+id)
	case id != "":
		hdr("In-Reply-To", id)
		hdr("References", id)
	case refs != "":
		hdr("References", refs)
	}
	hdr("Auto-Submitted", "auto-replied (vacation)")
	hdr("Precedence", "bulk")
	hdr("X-Auto-Response-Suppress", "All") // older Microsoft clients
	hdr("MIME-Version", "1.0")
	if !v.mime {
		// Without :mime the reason is UTF-8 text (RFC 5230 section 5.4).
		hdr("Content-Type", "text/plain; charset=utf-8")
		hdr("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n")
	}
	// With :mime the reason is a whole MIME entity, header included
	// (RFC 5230 section 4.4).
	b.WriteString(toCRLF(reason))
	b.WriteString("\r\n")
	return []byte(b.String())
}

// defaultSubject is "Auto: " and the original subject (RFC 5230 section
// 4.3), or the configured template or fallback.
func (r *runtime) defaultSubject(opts VacationOptions) string {
	orig := r.in.Message.headerValues("subject")
	if len(orig) == 0 {
		if opts.DefaultSubject != "" {
			return opts.DefaultSubject
		}
		return "Automated reply"
	}
	if opts.DefaultSubjectTemplate != "" {
		return strings.ReplaceAll(opts.DefaultSubjectTemplate, "%{subject}", orig[0])
	}
	return "Auto: " + orig[0]
}

// sanitizeSubject replaces control characters and invalid UTF-8 with
// U+FFFD and cuts the subject to maxSubjectRunes, ending it with "…".
func sanitizeSubject(s string) string {
	var out []rune
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			c = utf8.RuneError
		}
		out = append(out, c)
	}
	if len(out) > maxSubjectRunes {
		out = append(out[:maxSubjectRunes-1], '…')
	}
	return string(out)
}

// encodeHeaderText encodes non-ASCII text as RFC 2047 words, one folded
// line per word so that no line grows past the limits of RFC 5322.
func encodeHeaderText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.ReplaceAll(mime.BEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
		}
	}
	return s
}

// toCRLF gives every line of s a CRLF end.
func toCRLF(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func newMessageID(domain string) string {
	var b [16]byte
	rand.Read(b[:])
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}
