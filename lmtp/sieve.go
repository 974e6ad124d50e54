package lmtp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"letterbox/outbound"
	"letterbox/sieve"
	"letterbox/storage"
)

// SieveOptions turn on Sieve filtering at delivery: per recipient, the
// Before scripts, the account's active script, then the After scripts
// (Dovecot's sieve_before / sieve_after), on one result.
type SieveOptions struct {
	// Compile tunes compiling and running; its Includes is replaced per
	// account (personal scripts) — GlobalDir serves :global includes.
	Compile   sieve.Options
	Before    []*sieve.Script
	After     []*sieve.Script
	GlobalDir string
	// Relay sends redirects and vacation replies; nil or empty Addr: they
	// are not sent (a redirect then keeps the message in INBOX).
	Relay *outbound.Relay
}

// filter runs Sieve for recipients. It keeps each account's active
// script compiled: a script is compiled once per revision, and the
// storage is asked again only when this process changed a script
// (storage.Store.SieveGeneration) or the entry is older than
// activeScriptTTL, which bounds how long a change made by another
// process (the CLI, another PostgreSQL node) goes unseen.
type filter struct {
	opts  *SieveOptions
	store *storage.Store
	mu    sync.Mutex
	cache map[accountKey]*cachedScript
}

type accountKey struct {
	domain string
	id     int64
}

type cachedScript struct {
	gen    uint64
	at     time.Time
	sum    [32]byte      // of name and content; zero when the account has none
	script *sieve.Script // nil: no active script
}

const (
	maxCachedScripts = 4096
	activeScriptTTL  = 2 * time.Second
)

func newFilter(s *storage.Store, o *SieveOptions) *filter {
	return &filter{opts: o, store: s, cache: map[accountKey]*cachedScript{}}
}

// userScript returns a's active script compiled, or nil when it has
// none.
func (f *filter) userScript(ctx context.Context, a *storage.Account) (*sieve.Script, error) {
	key := accountKey{a.Domain, a.ID}
	gen := f.store.SieveGeneration()
	f.mu.Lock()
	c := f.cache[key]
	f.mu.Unlock()
	if c != nil && c.gen == gen && time.Since(c.at) < activeScriptTTL {
		return c.script, nil
	}
	fresh := &cachedScript{gen: gen, at: time.Now()}
	sc, err := f.store.ActiveSieveScript(ctx, a)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		fresh.sum = sha256.Sum256([]byte(sc.Name + "\x00" + sc.Content))
		if c != nil && c.script != nil && c.sum == fresh.sum {
			fresh.script = c.script // unchanged: no need to compile again
		} else if fresh.script, err = sieve.Compile(sc.Name, []byte(sc.Content), f.compileOptions(ctx, a)); err != nil {
			return nil, err
		}
		if fresh.script.Requires("include") {
			// Included scripts are read at compile time and change on
			// their own: compile such a script for every delivery.
			return fresh.script, nil
		}
	}
	f.mu.Lock()
	if len(f.cache) >= maxCachedScripts {
		clear(f.cache)
	}
	f.cache[key] = fresh
	f.mu.Unlock()
	return fresh.script, nil
}

func (f *filter) compileOptions(ctx context.Context, a *storage.Account) *sieve.Options {
	o := f.opts.Compile
	o.Includes = &scriptLoader{f: f, ctx: ctx, account: a}
	return &o
}

// scriptLoader finds included scripts: personal ones in storage, global
// ones as files in GlobalDir.
type scriptLoader struct {
	f       *filter
	ctx     context.Context
	account *storage.Account
}

func (l *scriptLoader) LoadScript(location, name string) (*sieve.Script, error) {
	opts := l.f.compileOptions(l.ctx, l.account)
	if location == "global" {
		if l.f.opts.GlobalDir == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
			return nil, os.ErrNotExist
		}
		src, err := os.ReadFile(filepath.Join(l.f.opts.GlobalDir, name+".sieve"))
		if errors.Is(err, os.ErrNotExist) {
			src, err = os.ReadFile(filepath.Join(l.f.opts.GlobalDir, name))
		}
		if err != nil {
			return nil, err
		}
		return sieve.Compile(name, src, opts)
	}
	sc, err := l.f.store.SieveScript(l.ctx, l.account, name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, os.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	return sieve.Compile(name, []byte(sc.Content), opts)
}

// mailboxes answers the mailbox and special-use extensions from storage.
type mailboxes struct {
	ctx     context.Context
	store   *storage.Store
	account *storage.Account
}

func (m *mailboxes) MailboxExists(name string) bool {
	_, err := m.store.Mailbox(m.ctx, m.account, name)
	return err == nil
}

func (m *mailboxes) SpecialUseExists(name string, uses []string) bool {
	list, err := m.store.ListMailboxes(m.ctx, m.account, "*")
	if err != nil {
		return false
	}
	for _, mb := range list {
		if name != "" && mb.Name != name {
			continue
		}
		if hasAllUses(mb.SpecialUse, uses) {
			return true
		}
	}
	return false
}

func hasAllUses(have string, uses []string) bool {
	for _, u := range uses {
		found := false
		for _, h := range strings.Fields(have) {
			if strings.EqualFold(h, u) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// specialUseMailbox finds the account's mailbox with a special-use flag.
func (m *mailboxes) specialUseMailbox(use string) string {
	list, err := m.store.ListMailboxes(m.ctx, m.account, "*")
	if err != nil {
		return ""
	}
	for _, mb := range list {
		if hasAllUses(mb.SpecialUse, []string{use}) {
			return mb.Name
		}
	}
	return ""
}

// tracker answers "seen before?" for duplicate and vacation.
type tracker struct {
	ctx     context.Context
	store   *storage.Store
	account *storage.Account
	log     func(err error)
}

func (t *tracker) Seen(kind, key string) bool {
	seen, err := t.store.SieveSeen(t.ctx, t.account, kind, key, time.Now())
	if err != nil {
		t.log(err)
	}
	return seen
}

// sieveDecide runs the scripts for rc and turns the result into a
// decision. Redirects are sent here, before anything is stored, so that
// a redirect that cannot be sent keeps the message instead of losing it.
// Nothing a script does can lose mail: a run-time error keeps.
func (d *Deliverer) sieveDecide(ctx context.Context, env *Envelope, rc *Recipient, in *storage.Incoming, keep string) decision {
	f := d.filter
	log := d.recipientLog(env, rc)
	scripts := append([]*sieve.Script(nil), f.opts.Before...)
	user, err := f.userScript(ctx, rc.Account)
	if err != nil {
		log().Warn("sieve: personal script not used", "err", err)
	} else if user != nil {
		scripts = append(scripts, user)
	}
	scripts = append(scripts, f.opts.After...)
	if len(scripts) == 0 {
		return decision{copies: []copyPlan{{mailbox: keep}}}
	}
	msg, err := sieve.NewMessage(in, in.Size())
	if err != nil {
		log().Warn("sieve: message not readable, keeping", "err", err)
		return decision{copies: []copyPlan{{mailbox: keep}}}
	}
	if p := in.Parsed(); p != nil {
		msg.SetStructure(p) // storage parsed these very bytes
	}
	input := &sieve.Input{
		Message:   msg,
		Envelope:  sieve.Envelope{From: env.From, To: rc.Address},
		Mailboxes: &mailboxes{ctx: ctx, store: d.store, account: rc.Account},
		Tracker:   &tracker{ctx: ctx, store: d.store, account: rc.Account, log: func(err error) { log().Warn("sieve: tracking lookup", "err", err) }},
		Env:       map[string]string{"host": d.opts.Hostname, "domain": rc.Account.Domain},
	}
	if env.Remote != nil {
		input.Env["remote-ip"] = hostOf(env.Remote.String())
	}
	if env.Helo != "" {
		input.Env["remote-host"] = env.Helo
	}
	res := sieve.RunSequence(ctx, scripts, input)
	if res.Err != nil {
		log().Warn("sieve: script failed, keeping the message", "err", res.Err)
	}
	var dec decision
	redirectFailed := false
	for _, a := range res.Actions {
		switch a := a.(type) {
		case *sieve.Keep:
			dec.copies = append(dec.copies, copyPlan{mailbox: keep, flags: a.Flags, edited: a.Message})
		case *sieve.FileInto:
			dec.copies = append(dec.copies, copyPlan{mailbox: a.Mailbox, flags: a.Flags, create: a.Create,
				specialUse: a.SpecialUse, edited: a.Message})
		case *sieve.Reject:
			return decision{refuse: replyRejected(a.Reason)}
		case *sieve.Redirect:
			if err := d.redirect(ctx, env, rc, msg, a); err != nil {
				log().Warn("sieve: redirect not sent, keeping the message", "to", a.Address, "err", err)
				redirectFailed = true
			} else {
				log().Info("sieve: redirected", "to", a.Address)
			}
		case *sieve.Vacation:
			dec.vacations = append(dec.vacations, a)
		}
	}
	if res.ImplicitKeep || redirectFailed {
		dec.copies = append(dec.copies, copyPlan{mailbox: keep, flags: res.ImplicitKeepFlags, edited: res.ImplicitKeepMessage})
	}
	dec.track = res.Track
	return dec
}

// redirect forwards the message (as edited, if it was) through the relay,
// with the envelope sender sieve.redirect_envelope_from asks for. RFC 5228
// section 4.2 asks for loop control; there are two marks, and a message
// that carries either one for this recipient came around before and is
// not sent again: X-Sieve-Redirected-From naming the user, as Pigeonhole
// writes it (so loops through a Dovecot server are caught too), and
// Delivered-To naming the recipient (besides the one our own trace header
// wrote), which other forwarders write.
func (d *Deliverer) redirect(ctx context.Context, env *Envelope, rc *Recipient, msg *sieve.Message, a *sieve.Redirect) error {
	if d.filter.opts.Relay == nil || d.filter.opts.Relay.Addr == "" {
		return outbound.ErrNoRelay
	}
	fw := sieve.Forward(d.filter.opts.Compile.RedirectFrom, rc.Account.Name,
		sieve.Envelope{From: env.From, To: rc.Address}, msg)
	ours := 0
	if singleAddress(env.Recipients) != "" {
		ours = 1 // traceHeader wrote one
	}
	if fw.Loop || deliveredToCount(msg, rc.Address) > ours {
		return errRedirectLoop
	}
	m := msg
	if a.Message != nil {
		m = a.Message
	}
	body := messageReader(m)
	defer body.Close()
	head := fw.Header
	if ours == 0 {
		head += "Delivered-To: " + formatAddress(rc.Address) + "\r\n"
	}
	return d.filter.opts.Relay.Send(ctx, fw.From, []string{a.Address}, io.MultiReader(strings.NewReader(head), body))
}

var errRedirectLoop = errors.New("mail loop: the message was delivered to this recipient before")

// deliveredToCount counts the Delivered-To fields naming addr.
func deliveredToCount(m *sieve.Message, addr string) int {
	n := 0
	for _, v := range m.HeaderValues("Delivered-To") {
		if strings.EqualFold(strings.Trim(strings.TrimSpace(v), "<>"), addr) {
			n++
		}
	}
	return n
}

// recipientLog returns the logger of rc's delivery, made on first use:
// most deliveries log nothing here, and With formats its attributes at
// once, for every delivery.
func (d *Deliverer) recipientLog(env *Envelope, rc *Recipient) func() *slog.Logger {
	var l *slog.Logger
	return func() *slog.Logger {
		if l == nil {
			l = d.log.With("id", env.ID, "rcpt", rc.Address)
		}
		return l
	}
}

// afterDelivery sends vacation replies and records what Sieve tracks,
// once rc's copies are stored (or it discarded the message).
func (d *Deliverer) afterDelivery(ctx context.Context, env *Envelope, rc *Recipient, dec decision) {
	if d.filter == nil {
		return
	}
	log := d.recipientLog(env, rc)
	vacationSent := true
	for _, v := range dec.vacations {
		var err error
		if d.filter.opts.Relay == nil || d.filter.opts.Relay.Addr == "" {
			err = outbound.ErrNoRelay
		} else {
			err = d.filter.opts.Relay.Send(ctx, v.From, []string{v.To}, bytes.NewReader(v.Reply))
		}
		if err != nil {
			log().Warn("sieve: vacation reply not sent", "to", v.To, "err", err)
			vacationSent = false
			continue
		}
		log().Info("sieve: vacation reply sent", "to", v.To)
	}
	now := time.Now()
	for _, t := range dec.track {
		if t.Kind == "vacation" && !vacationSent {
			continue // not answered: the next message may try again
		}
		if err := d.store.SieveTrack(ctx, rc.Account, t.Kind, t.Key, now.Add(t.Period)); err != nil {
			log().Warn("sieve: tracking not recorded", "kind", t.Kind, "err", err)
		}
	}
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
