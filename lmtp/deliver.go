package lmtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"letterbox/sieve"
	"letterbox/storage"
)

// Options configure delivery and the LMTP server. Zero values take the
// defaults.
type Options struct {
	// Hostname names this server in the greeting and in Received headers;
	// default: the system's host name.
	Hostname string
	// RecipientDelimiter lists the characters that separate a local part
	// from its detail; empty: no details.
	RecipientDelimiter string
	// CaseSensitiveLocalParts makes Bob@example.com miss the account
	// bob@example.com.
	CaseSensitiveLocalParts bool
	// QuotaFullTempfail answers a full mailbox with 452 4.2.2 instead of
	// 552 5.2.2.
	QuotaFullTempfail bool
	// MaxMessageSize must be the storage's limit (storage.Options); the
	// server advertises it less traceReserve. Default 50 MiB.
	MaxMessageSize int64
	// MaxConnectionsPerIP bounds the TCP connections from one address;
	// 0: no limit.
	MaxConnectionsPerIP int
	// Sieve, when set, filters every recipient's copy (sieve.go).
	Sieve  *SieveOptions
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
		if o.Hostname == "" {
			o.Hostname = "localhost"
		}
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 50 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Deliverer is the delivery pipeline: recipient checks, trace headers,
// the per-recipient decision, storage. The LMTP server and
// `letterbox deliver` both drive it.
type Deliverer struct {
	store  *storage.Store
	opts   Options
	log    *slog.Logger
	filter *filter // nil: no Sieve
}

// NewDeliverer makes a pipeline that delivers into s.
func NewDeliverer(s *storage.Store, o Options) *Deliverer {
	o.setDefaults()
	d := &Deliverer{store: s, opts: o, log: o.Logger}
	if o.Sieve != nil {
		d.filter = newFilter(s, o.Sieve)
	}
	return d
}

// Recipient is an accepted recipient of a transaction.
type Recipient struct {
	Address string // as the client gave it (RCPT TO, deliver -r)
	Account *storage.Account
	// Detail is what followed the recipient delimiter, case kept ("lists"
	// in bob+lists@example.com); Sieve's subaddress extension reads it.
	Detail    string
	HasDetail bool
	// Mailbox, when set, is where the copy goes (deliver -m); a mailbox
	// that does not exist falls back to INBOX, as Dovecot's LDA does.
	Mailbox string
}

// Envelope is one transaction: who sent it, to whom, from where.
type Envelope struct {
	ID   string // names the transaction in logs and headers
	From string // reverse path; "" is the null sender
	// UnknownSender leaves out Return-Path: local delivery without -f,
	// where the sender is not known.
	UnknownSender bool
	Recipients    []*Recipient
	Helo          string   // LHLO argument
	Remote        net.Addr // nil for local delivery
	Protocol      string   // "LMTP"; "" for local delivery
}

// NewID returns a transaction id: 16 characters of base32, unique enough
// to find a delivery in the logs.
func NewID() string { return strings.ToLower(rand.Text()[:16]) }

// Resolve checks a recipient address at once (RCPT TO time): syntax,
// hosted domain, account (trying the whole local part first, then the
// part before the recipient delimiter), quota. size is the message size
// the client announced (MAIL FROM SIZE=), 0 if none. Failures are replies.
func (d *Deliverer) Resolve(ctx context.Context, addr string, size int64) (*Recipient, *smtp.SMTPError) {
	if !validAddress(addr) {
		return nil, replyBadRecipient()
	}
	local, domain := splitAddress(addr)
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if strings.HasPrefix(domain, "[") || !isASCII(domain) {
		// Only domain names are hosted, in their ASCII (A-label) form.
		return nil, replyNoDomain(addr)
	}
	candidates := []struct{ user, detail string }{{local, ""}}
	user, detail, hasDetail := splitDetail(local, d.opts.RecipientDelimiter)
	if hasDetail {
		candidates = append(candidates, struct{ user, detail string }{user, detail})
	}
	for i, c := range candidates {
		if d.opts.CaseSensitiveLocalParts && c.user != strings.ToLower(c.user) {
			continue // account names are lower case
		}
		a, err := d.store.Account(ctx, c.user+"@"+domain)
		switch {
		case err == nil:
			if full(a, size) {
				return nil, replyFull(addr, d.opts.QuotaFullTempfail)
			}
			return &Recipient{Address: addr, Account: a, Detail: c.detail, HasDetail: i > 0}, nil
		case errors.Is(err, storage.ErrNoDomain):
			return nil, replyNoDomain(addr)
		case errors.Is(err, storage.ErrInvalidName):
			return nil, replyBadRecipient()
		case !errors.Is(err, storage.ErrNotFound):
			d.log.Error("recipient lookup", "rcpt", addr, "err", err)
			return nil, reply(451, 4, 3, 0, "Temporary failure looking up <%s>, try again later", addr)
		}
	}
	return nil, replyNoUser(addr)
}

// full reports whether a has no room left, or no room for a message of
// the announced size.
func full(a *storage.Account, size int64) bool {
	if a.QuotaBytes <= 0 {
		return false
	}
	return a.UsedBytes >= a.QuotaBytes || size > 0 && a.UsedBytes+size > a.QuotaBytes
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// CheckSender validates a reverse path (MAIL FROM, deliver -f); "" is the
// null sender.
func CheckSender(from string) *smtp.SMTPError {
	if from != "" && !validAddress(from) {
		return replyBadSender()
	}
	return nil
}

// Result is what became of one recipient.
type Result struct {
	Reply   *smtp.SMTPError // code 250 when stored
	Mailbox string          // where it was stored
	UID     storage.UID
}

// decision is what becomes of one recipient's message: the copies to
// store (none: discarded), a refusal for that recipient alone, and what
// Sieve asks to send and to remember.
type decision struct {
	copies []copyPlan
	refuse *smtp.SMTPError
	// vacations are sent, and track entries recorded, once the copies
	// are stored.
	vacations []*sieve.Vacation
	track     []sieve.TrackEntry
}

// copyPlan is one copy to store.
type copyPlan struct {
	mailbox    string
	flags      []string
	create     bool           // fileinto :create
	specialUse string         // fileinto :specialuse
	edited     *sieve.Message // editheader's copy; nil: the message as received
}

// decide says what becomes of rc's copy: Sieve's answer when filtering is
// on, else keep (INBOX, or the mailbox deliver -m named).
func (d *Deliverer) decide(ctx context.Context, env *Envelope, rc *Recipient, in *storage.Incoming) decision {
	keep := "INBOX"
	if rc.Mailbox != "" {
		keep = rc.Mailbox
	}
	if d.filter == nil {
		return decision{copies: []copyPlan{{mailbox: keep}}}
	}
	return d.sieveDecide(ctx, env, rc, in, keep)
}

// Deliver reads the message from r once, prepends the trace headers,
// stores it for every recipient of env and returns one result per
// recipient, in order. A recipient's result is 250 only once its copy is
// committed durably. r is read to its end unless reading fails or the
// message passes the size limit.
func (d *Deliverer) Deliver(ctx context.Context, env *Envelope, r io.Reader) []Result {
	start := time.Now()
	results := make([]Result, len(env.Recipients))
	trace := traceHeader(env, d.opts.Hostname, start)
	in, err := d.store.Receive(io.MultiReader(bytes.NewReader(trace), newCRLFReader(r)))
	if err != nil {
		d.logFailure(env, nil, err)
		for i := range results {
			results[i] = Result{Reply: d.replyFor(err, env.ID)}
		}
		return results
	}
	defer in.Close()

	p := d.plan(ctx, env, in, results)
	var stored []storage.DeliveryResult
	if len(p.targets) > 0 {
		stored = d.commit(ctx, in, &p)
	}
	for i, rc := range env.Recipients {
		if results[i].Reply != nil {
			continue
		}
		var err error
		for _, t := range p.uses[i] {
			if err = stored[t].Err; err != nil {
				break
			}
		}
		if err != nil {
			d.logFailure(env, rc, err)
			results[i] = Result{Reply: d.replyFor(err, env.ID)}
			continue
		}
		t := p.uses[i][0]
		results[i] = Result{Reply: replySaved(env.ID), Mailbox: p.names[t], UID: stored[t].UID}
		d.afterDelivery(ctx, env, rc, p.decisions[i])
		d.log.Info("delivered", "id", env.ID, "from", env.From, "rcpt", rc.Address, "account", rc.Account.Name,
			"mailbox", p.names[t], "uid", stored[t].UID, "size", in.Size(), "ms", time.Since(start).Milliseconds())
	}
	return results
}

// deliveryPlan is where the copies of one message go: the storage targets
// (each with the message it stores: the one received, or an edited
// one), and for each recipient the targets it needs.
type deliveryPlan struct {
	targets   []storage.Target
	names     []string            // mailbox name of each target
	sources   []*storage.Incoming // message each target stores
	uses      [][]int             // per recipient: indexes into targets
	decisions []decision
}

// plan asks decide about every recipient and turns the answers into
// storage targets, one per distinct mailbox and flags: a recipient listed
// twice, or two details of one user, share the copy. A recipient settled
// without storing (refused, discarded) gets its result here. Edited
// copies are received again as messages of their own (closed by the
// caller through p.close).
func (d *Deliverer) plan(ctx context.Context, env *Envelope, in *storage.Incoming, results []Result) deliveryPlan {
	// Ids are per domain (SQLite: one database per domain), so the
	// domain is part of the key.
	type key struct {
		domain           string
		account, mailbox int64
		flags            string
		source           *storage.Incoming
	}
	var p deliveryPlan
	index := map[key]int{}
	edited := map[*sieve.Message]*storage.Incoming{}
	p.uses = make([][]int, len(env.Recipients))
	p.decisions = make([]decision, len(env.Recipients))
	for i, rc := range env.Recipients {
		dec := d.decide(ctx, env, rc, in)
		p.decisions[i] = dec
		switch {
		case dec.refuse != nil:
			results[i] = Result{Reply: dec.refuse}
			continue
		case len(dec.copies) == 0:
			results[i] = Result{Reply: replySaved(env.ID)} // discarded on purpose
			d.afterDelivery(ctx, env, rc, dec)
			continue
		}
		for _, c := range dec.copies {
			src := in
			if c.edited != nil {
				var err error
				if src = edited[c.edited]; src == nil {
					if src, err = d.receiveEdited(c.edited); err != nil {
						d.logFailure(env, rc, err)
						results[i] = Result{Reply: d.replyFor(err, env.ID)}
						p.uses[i] = nil
						break
					}
					edited[c.edited] = src
				}
			}
			mb, err := d.copyMailbox(ctx, rc, c)
			if err != nil {
				d.logFailure(env, rc, err)
				results[i] = Result{Reply: d.replyFor(err, env.ID)}
				p.uses[i] = nil
				break
			}
			k := key{rc.Account.Domain, rc.Account.ID, mb.ID, strings.Join(c.flags, " "), src}
			t, ok := index[k]
			if !ok {
				t = len(p.targets)
				index[k] = t
				p.targets = append(p.targets, storage.Target{Account: rc.Account, MailboxID: mb.ID,
					Options: storage.AppendOptions{Flags: c.flags}})
				p.names = append(p.names, mb.Name)
				p.sources = append(p.sources, src)
			}
			p.uses[i] = append(p.uses[i], t)
		}
	}
	return p
}

// receiveEdited spools a message editheader changed.
func (d *Deliverer) receiveEdited(m *sieve.Message) (*storage.Incoming, error) {
	r := messageReader(m)
	defer r.Close()
	return d.store.Receive(r)
}

// messageReader streams m (its edited header, its body) without holding
// it in memory; the caller closes it.
func messageReader(m *sieve.Message) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		_, err := m.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	return pr
}

// commit commits every target, one storage.Deliver per source message,
// and returns the results in target order.
func (d *Deliverer) commit(ctx context.Context, in *storage.Incoming, p *deliveryPlan) []storage.DeliveryResult {
	out := make([]storage.DeliveryResult, len(p.targets))
	bySource := map[*storage.Incoming][]int{}
	var order []*storage.Incoming
	for t, src := range p.sources {
		if _, ok := bySource[src]; !ok {
			order = append(order, src)
		}
		bySource[src] = append(bySource[src], t)
	}
	for _, src := range order {
		idx := bySource[src]
		targets := make([]storage.Target, len(idx))
		for j, t := range idx {
			targets[j] = p.targets[t]
		}
		for j, r := range d.store.Deliver(ctx, src, targets) {
			out[idx[j]] = r
		}
		if src != in {
			src.Close()
		}
	}
	return out
}

// copyMailbox finds (or, for fileinto :create, makes) the mailbox of a
// copy. A special-use flag the account has wins over the name (RFC 8579
// section 4).
func (d *Deliverer) copyMailbox(ctx context.Context, rc *Recipient, c copyPlan) (*storage.Mailbox, error) {
	name := c.mailbox
	if c.specialUse != "" {
		mbs := &mailboxes{ctx: ctx, store: d.store, account: rc.Account}
		if n := mbs.specialUseMailbox(c.specialUse); n != "" {
			name = n
		}
	}
	if c.create {
		mb, err := d.store.Mailbox(ctx, rc.Account, name)
		if errors.Is(err, storage.ErrNotFound) {
			mb, err = d.store.CreateMailbox(ctx, rc.Account, name, "")
			if errors.Is(err, storage.ErrExists) {
				mb, err = d.store.Mailbox(ctx, rc.Account, name)
			}
		}
		if err == nil {
			return mb, nil
		}
		d.log.Warn("fileinto :create failed, delivering to INBOX", "rcpt", rc.Address, "mailbox", name, "err", err)
	}
	return d.mailbox(ctx, rc, name)
}

// mailbox finds where a copy goes; a mailbox other than INBOX that does
// not exist (or cannot) falls back to INBOX.
func (d *Deliverer) mailbox(ctx context.Context, rc *Recipient, name string) (*storage.Mailbox, error) {
	mb, err := d.store.Mailbox(ctx, rc.Account, name)
	if err == nil || strings.EqualFold(name, "INBOX") ||
		!(errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidName)) {
		return mb, err
	}
	d.log.Warn("no such mailbox, delivering to INBOX", "rcpt", rc.Address, "mailbox", name)
	return d.store.Mailbox(ctx, rc.Account, "INBOX")
}

// logFailure logs a delivery that did not happen; rc is nil when it failed
// for every recipient.
func (d *Deliverer) logFailure(env *Envelope, rc *Recipient, err error) {
	rep := d.replyFor(err, env.ID)
	level := slog.LevelInfo // the client's doing: too big, full, gone
	if rep.Code/100 == 4 && !errors.Is(err, storage.ErrOverQuota) {
		level = slog.LevelWarn
	}
	attrs := []any{"id", env.ID, "from", env.From, "reply", rep.Code, "err", err}
	if rc != nil {
		attrs = append(attrs, "rcpt", rc.Address)
	} else {
		attrs = append(attrs, "rcpts", len(env.Recipients))
	}
	d.log.Log(context.Background(), level, "not delivered", attrs...)
}
