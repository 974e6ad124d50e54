package imap

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"letterbox/storage"
)

// mailboxArg reads a mailbox name and returns its storage (UTF-8) form:
// modified UTF-7 for IMAP4rev1 clients, UTF-8 once IMAP4rev2 or
// UTF8=ACCEPT is enabled (RFC 9051 section 5.1, RFC 6855 section 3).
func (c *conn) mailboxArg() (string, error) {
	raw, err := c.p.astring()
	if err != nil {
		return "", err
	}
	return c.decodeMailbox(raw)
}

func (c *conn) decodeMailbox(raw string) (string, error) {
	if strings.EqualFold(raw, "INBOX") {
		return "INBOX", nil
	}
	if c.w.utf8 {
		if !utf8.ValidString(raw) {
			return "", no("CANNOT", "Mailbox name is not valid UTF-8")
		}
		return raw, nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] >= 0x80 {
			// 8-bit from a rev1 client: accept UTF-8 as Dovecot does.
			if utf8.ValidString(raw) {
				return raw, nil
			}
			return "", no("CANNOT", "Mailbox name is not valid UTF-8 or modified UTF-7")
		}
	}
	name, err := decodeUTF7(raw)
	if err != nil {
		return "", no("CANNOT", "Mailbox name is not valid modified UTF-7")
	}
	return name, nil
}

// mailboxOnly reads " mailbox" as a command's only argument.
func (c *conn) mailboxOnly() (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	name, err := c.mailboxArg()
	if err != nil {
		return "", err
	}
	return name, c.p.end()
}

// mailboxOut writes a mailbox name in the client's encoding.
func (c *conn) mailboxOut(name string) {
	if c.w.utf8 {
		c.w.astring(name)
		return
	}
	c.w.astring(encodeUTF7(name))
}

func cmdSelect(c *conn, tag string) (string, error) {
	name, err := c.mailboxOnly()
	if err != nil {
		return "", err
	}
	// A failed SELECT leaves no mailbox selected (RFC 9051 section 6.3.2).
	if c.sel != nil {
		c.sel.close()
		c.sel = nil
		c.state = stateAuth
		if c.rev2 {
			c.w.untagged("OK [CLOSED] Previous mailbox closed")
		}
	}
	mb, err := c.srv.Store.Mailbox(c.ctx, c.acct, name)
	if err != nil {
		return "", err
	}
	watch := c.srv.Store.Watch(c.acct, mb.ID)
	msgs, err := c.srv.Store.Messages(c.ctx, c.acct, mb.ID, nil, 0)
	if err != nil {
		watch.Close()
		return "", err
	}
	s := &selected{id: mb.ID, name: mb.Name, uidValidity: mb.UIDValidity, readOnly: c.cmd == "EXAMINE",
		modseq: mb.HighestModSeq, watch: watch, keywords: map[string]bool{}}
	s.uids = make([]storage.UID, len(msgs))
	firstUnseen := 0
	for i, m := range msgs {
		s.uids[i] = m.UID
		if m.ModSeq > s.modseq {
			s.modseq = m.ModSeq
		}
		for _, k := range m.Flags.Keywords {
			s.keywords[k] = true
		}
		if !m.Flags.Seen && firstUnseen == 0 {
			firstUnseen = i + 1
		}
	}
	uidnext := mb.UIDNext
	if n := len(msgs); n > 0 && msgs[n-1].UID >= uidnext {
		uidnext = msgs[n-1].UID + 1
	}
	c.sel, c.state = s, stateSelected
	recent := 0
	if !c.rev2 {
		if s.readOnly {
			n, err := c.srv.Store.RecentCount(c.ctx, c.acct, mb.ID)
			if err != nil {
				return "", err
			}
			recent = int(n)
		} else {
			if err := s.claimRecent(c); err != nil {
				return "", err
			}
			recent = s.recentCount()
		}
	}
	c.w.untagged(fmt.Sprintf("%d EXISTS", len(s.uids)))
	if !c.rev2 {
		c.w.untagged(fmt.Sprintf("%d RECENT", recent))
		if firstUnseen > 0 {
			c.w.untagged(fmt.Sprintf("OK [UNSEEN %d] First unseen", firstUnseen))
		}
	}
	s.writeFlags(c)
	c.w.untagged(fmt.Sprintf("OK [UIDVALIDITY %d] UIDs valid", s.uidValidity))
	c.w.untagged(fmt.Sprintf("OK [UIDNEXT %d] Predicted next UID", uidnext))
	if c.rev2 {
		c.w.raw(`* LIST () "/" `)
		c.mailboxOut(mb.Name)
		c.w.crlf()
	}
	if s.readOnly {
		return "[READ-ONLY] EXAMINE completed", nil
	}
	return "[READ-WRITE] SELECT completed", nil
}

func cmdCreate(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	name, err := c.mailboxArg()
	if err != nil {
		return "", err
	}
	use := ""
	if c.p.maybeSP() {
		// CREATE-SPECIAL-USE (RFC 6154 section 3): (USE (\Sent))
		err := c.p.list(func() error {
			opt, err := c.p.atom()
			if err != nil {
				return err
			}
			if !strings.EqualFold(opt, "USE") {
				return bad("Unknown CREATE parameter %s", opt)
			}
			if err := c.p.sp(); err != nil {
				return err
			}
			return c.p.list(func() error {
				f, err := c.p.word("\\")
				if err != nil {
					return err
				}
				if use != "" {
					return no("USEATTR", "Only one special-use attribute per mailbox")
				}
				use = canonicalSpecialUse(f)
				if use == "" {
					return no("USEATTR", "Unknown special-use attribute %s", f)
				}
				return nil
			})
		})
		if err != nil {
			return "", err
		}
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	name = strings.TrimSuffix(name, "/") // a trailing separator only announces children
	if strings.EqualFold(name, "INBOX") {
		return "", no("ALREADYEXISTS", "INBOX always exists")
	}
	_, err = c.srv.Store.CreateMailbox(c.ctx, c.acct, name, use)
	return "", err
}

func canonicalSpecialUse(f string) string {
	for _, u := range []string{storage.SpecialAll, storage.SpecialArchive, storage.SpecialDrafts, storage.SpecialFlagged,
		storage.SpecialJunk, storage.SpecialSent, storage.SpecialTrash} {
		if strings.EqualFold(u, f) {
			return u
		}
	}
	return ""
}

func cmdDelete(c *conn, tag string) (string, error) {
	name, err := c.mailboxOnly()
	if err != nil {
		return "", err
	}
	return "", c.srv.Store.DeleteMailbox(c.ctx, c.acct, name)
}

func cmdRename(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	from, err := c.mailboxArg()
	if err != nil {
		return "", err
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	to, err := c.mailboxArg()
	if err != nil {
		return "", err
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	return "", c.srv.Store.RenameMailbox(c.ctx, c.acct, from, strings.TrimSuffix(to, "/"))
}

func cmdSubscribe(c *conn, tag string) (string, error) {
	name, err := c.mailboxOnly()
	if err != nil {
		return "", err
	}
	return "", c.srv.Store.Subscribe(c.ctx, c.acct, name)
}

func cmdUnsubscribe(c *conn, tag string) (string, error) {
	name, err := c.mailboxOnly()
	if err != nil {
		return "", err
	}
	err = c.srv.Store.Unsubscribe(c.ctx, c.acct, name)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil // RFC 9051: unsubscribing an unsubscribed name is not an error
	}
	return "", err
}

// statusItems are the STATUS data items we know (RFC 9051 section 6.3.11,
// RFC 8438 SIZE).
var statusItems = map[string]bool{"MESSAGES": true, "UIDNEXT": true, "UIDVALIDITY": true, "UNSEEN": true,
	"DELETED": true, "SIZE": true, "RECENT": true}

func (c *conn) statusItemList() ([]string, error) {
	var items []string
	err := c.p.list(func() error {
		it, err := c.p.atom()
		if err != nil {
			return err
		}
		it = strings.ToUpper(it)
		if !statusItems[it] {
			return bad("Unknown STATUS item %s", it)
		}
		items = append(items, it)
		return nil
	})
	if err == nil && len(items) == 0 {
		err = bad("STATUS needs at least one item")
	}
	return items, err
}

func cmdStatus(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	name, err := c.mailboxArg()
	if err != nil {
		return "", err
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	items, err := c.statusItemList()
	if err != nil {
		return "", err
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	mb, err := c.srv.Store.Mailbox(c.ctx, c.acct, name)
	if err != nil {
		return "", err
	}
	return "", c.writeStatus(mb, items)
}

func (c *conn) writeStatus(mb *storage.Mailbox, items []string) error {
	var recent int64
	for _, it := range items {
		if it == "RECENT" {
			var err error
			if recent, err = c.srv.Store.RecentCount(c.ctx, c.acct, mb.ID); err != nil {
				return err
			}
		}
	}
	c.w.raw("* STATUS ")
	c.mailboxOut(mb.Name)
	c.w.raw(" (")
	for i, it := range items {
		if i > 0 {
			c.w.byte(' ')
		}
		c.w.raw(it)
		c.w.byte(' ')
		switch it {
		case "MESSAGES":
			c.w.num(uint64(mb.Messages))
		case "UIDNEXT":
			c.w.num(uint64(mb.UIDNext))
		case "UIDVALIDITY":
			c.w.num(uint64(mb.UIDValidity))
		case "UNSEEN":
			c.w.num(uint64(mb.Unseen))
		case "DELETED":
			c.w.num(uint64(mb.Deleted))
		case "SIZE":
			c.w.num(uint64(mb.Size))
		case "RECENT":
			c.w.num(uint64(recent))
		}
	}
	c.w.raw(")\r\n")
	return nil
}

// cmdAppend stores one or more messages (MULTIAPPEND, RFC 3502: all or
// none). Message literals are streamed into storage's spool, never held in
// memory whole.
func cmdAppend(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	name, err := c.mailboxArg()
	if err != nil {
		return "", err
	}
	var ins []*storage.Incoming
	var opts []storage.AppendOptions
	defer func() {
		for _, in := range ins {
			in.Close()
		}
	}()
	var refuse error // an error found after the literal started: answer after reading it all
	for c.p.maybeSP() {
		var o storage.AppendOptions
		if c.p.peek() == '(' {
			flags, err := c.flagList()
			if err != nil {
				return "", err
			}
			o.Flags = flags
			if err := c.p.sp(); err != nil {
				return "", err
			}
		}
		if c.p.peek() == '"' {
			ds, err := c.p.quoted()
			if err != nil {
				return "", err
			}
			if o.InternalDate, err = parseDateTime(ds); err != nil {
				return "", err
			}
			if err := c.p.sp(); err != nil {
				return "", err
			}
		}
		if c.p.pendingLiteral > c.srv.MaxMessageSize && c.srv.MaxMessageSize > 0 && c.p.pendingSync {
			return "", no("TOOBIG", "Message over the %d-octet limit", c.srv.MaxMessageSize)
		}
		r, n, _, err := c.p.literalStream()
		if err != nil {
			return "", err
		}
		if refuse == nil && c.srv.MaxMessageSize > 0 && n > c.srv.MaxMessageSize {
			refuse = no("TOOBIG", "Message over the %d-octet limit", c.srv.MaxMessageSize)
		}
		if refuse == nil {
			in, err := c.srv.Store.Receive(r)
			if err != nil {
				if isNetErr(err) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
					return "", err
				}
				refuse = err
			} else {
				ins = append(ins, in)
				opts = append(opts, o)
			}
		}
		if err := c.p.afterLiteral(r); err != nil {
			return "", err
		}
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	if refuse != nil {
		return "", refuse
	}
	if len(ins) == 0 {
		return "", bad("APPEND needs a message")
	}
	mb, err := c.srv.Store.Mailbox(c.ctx, c.acct, name)
	if errors.Is(err, storage.ErrNotFound) {
		return "", no("TRYCREATE", "No such mailbox")
	}
	if err != nil {
		return "", err
	}
	res, err := c.srv.Store.AppendAll(c.ctx, c.acct, mb.ID, ins, opts)
	if err != nil {
		return "", err
	}
	uids := make([]storage.UID, len(res))
	for i, r := range res {
		uids[i] = r.UID
	}
	return fmt.Sprintf("[APPENDUID %d %s] APPEND completed", res[0].UIDValidity, storage.UIDSetOf(uids...)), nil
}

// flagList reads "(" flags ")": system flags and keywords (atoms).
func (c *conn) flagList() ([]string, error) {
	var flags []string
	err := c.p.list(func() error {
		f, err := c.flag()
		flags = append(flags, f)
		return err
	})
	return flags, err
}

func (c *conn) flag() (string, error) {
	if c.p.peek() == '\\' {
		c.p.pos++
		f, err := c.p.atom()
		if err != nil {
			return "", err
		}
		if strings.EqualFold(f, "Recent") {
			return "", bad(`\Recent cannot be set`)
		}
		return `\` + f, nil
	}
	return c.p.atom()
}

// parseDateTime parses an IMAP date-time: "dd-Mon-yyyy hh:mm:ss +zzzz"
// (the day may be space-padded).
func parseDateTime(s string) (time.Time, error) {
	s = strings.TrimPrefix(s, " ")
	t, err := time.Parse("2-Jan-2006 15:04:05 -0700", s)
	if err != nil {
		return time.Time{}, bad("Invalid date-time %q", s)
	}
	return t, nil
}

// cmdList answers LIST with LIST-EXTENDED (RFC 5258) selection and return
// options, LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154).
func cmdList(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	var selSubscribed, selSpecial, recursive bool
	if c.p.peek() == '(' {
		err := c.p.list(func() error {
			o, err := c.p.atom()
			switch strings.ToUpper(o) {
			case "SUBSCRIBED":
				selSubscribed = true
			case "SPECIAL-USE":
				selSpecial = true
			case "RECURSIVEMATCH":
				recursive = true
			case "REMOTE":
			default:
				if err == nil {
					err = bad("Unknown LIST selection option %s", o)
				}
			}
			return err
		})
		if err != nil {
			return "", err
		}
		if recursive && !selSubscribed {
			return "", bad("RECURSIVEMATCH needs another selection option")
		}
		if err := c.p.sp(); err != nil {
			return "", err
		}
	}
	refRaw, err := c.p.astring()
	if err != nil {
		return "", err
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	var patterns []string
	readPattern := func() error {
		var s string
		var err error
		if c.p.peek() == '"' || c.p.peek() == '{' {
			s, err = c.p.astring()
		} else {
			s, err = c.p.word("%*]")
		}
		patterns = append(patterns, s)
		return err
	}
	if c.p.peek() == '(' {
		err = c.p.list(readPattern)
	} else {
		err = readPattern()
	}
	if err != nil {
		return "", err
	}
	var retSubscribed, retChildren, retSpecial bool
	var retStatus []string
	if c.p.maybeSP() {
		w, err := c.p.atom()
		if err != nil || !strings.EqualFold(w, "RETURN") {
			return "", bad("Expected RETURN")
		}
		if err := c.p.sp(); err != nil {
			return "", err
		}
		err = c.p.list(func() error {
			o, err := c.p.atom()
			if err != nil {
				return err
			}
			switch strings.ToUpper(o) {
			case "SUBSCRIBED":
				retSubscribed = true
			case "CHILDREN":
				retChildren = true
			case "SPECIAL-USE":
				retSpecial = true
			case "STATUS":
				if err := c.p.sp(); err != nil {
					return err
				}
				retStatus, err = c.statusItemList()
				return err
			default:
				return bad("Unknown LIST return option %s", o)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	_ = retChildren // children attributes are always returned
	_ = retSpecial  // special-use attributes are always returned

	if len(patterns) == 1 && patterns[0] == "" {
		// RFC 9051 section 6.3.9: the hierarchy delimiter and root.
		c.w.untagged(`LIST (\Noselect) "/" ""`)
		return "", nil
	}
	ref, err := c.decodeMailbox(refRaw)
	if refRaw == "" {
		ref, err = "", nil
	}
	if err != nil {
		return "", err
	}
	all, err := c.srv.Store.ListMailboxes(c.ctx, c.acct, "*")
	if err != nil {
		return "", err
	}
	subs, err := c.srv.Store.Subscriptions(c.ctx, c.acct)
	if err != nil {
		return "", err
	}
	matches := func(name string) bool {
		for _, p := range patterns {
			pat, err := c.decodeMailbox(p)
			if err != nil {
				pat = p
			}
			if storage.MatchPattern(ref+pat, name) {
				return true
			}
		}
		return false
	}
	exists := map[string]*storage.Mailbox{}
	for _, m := range all {
		exists[m.Name] = m
	}
	subscribed := map[string]bool{}
	for _, s := range subs {
		subscribed[s] = true
	}
	type entry struct {
		name      string
		attrs     []string
		childInfo bool
		mb        *storage.Mailbox
	}
	var out []entry
	names := map[string]bool{}
	for _, m := range all {
		names[m.Name] = true
	}
	if selSubscribed {
		for _, s := range subs {
			names[s] = true
		}
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		mb := exists[n]
		var attrs []string
		if mb == nil {
			attrs = append(attrs, `\NonExistent`)
		} else if mb.HasChildren {
			attrs = append(attrs, `\HasChildren`)
		} else {
			attrs = append(attrs, `\HasNoChildren`)
		}
		if subscribed[n] && (selSubscribed || retSubscribed) {
			attrs = append(attrs, `\Subscribed`)
		}
		if mb != nil && mb.SpecialUse != "" {
			attrs = append(attrs, mb.SpecialUse)
		}
		e := entry{name: n, attrs: attrs, mb: mb}
		if selSubscribed && !subscribed[n] {
			if !recursive || !hasSubscribedChild(n, subs, matches) {
				continue
			}
			e.childInfo = true
		}
		if selSpecial && (mb == nil || mb.SpecialUse == "") {
			continue
		}
		if !matches(n) {
			continue
		}
		out = append(out, e)
	}
	for _, e := range out {
		c.w.raw("* LIST (" + strings.Join(e.attrs, " ") + `) "/" `)
		c.mailboxOut(e.name)
		if e.childInfo {
			c.w.raw(` ("CHILDINFO" ("SUBSCRIBED"))`)
		}
		c.w.crlf()
		if retStatus != nil && e.mb != nil {
			if err := c.writeStatus(e.mb, retStatus); err != nil {
				return "", err
			}
		}
	}
	return "", nil
}

// hasSubscribedChild: RECURSIVEMATCH's CHILDINFO is for a mailbox with a
// subscribed descendant that is not itself listed (RFC 5258 section 4).
func hasSubscribedChild(name string, subs []string, listed func(string) bool) bool {
	for _, s := range subs {
		if strings.HasPrefix(s, name+"/") && !listed(s) {
			return true
		}
	}
	return false
}

// cmdLsub is IMAP4rev1's LSUB (RFC 3501 section 6.3.9).
func cmdLsub(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	refRaw, err := c.p.astring()
	if err != nil {
		return "", err
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	var pat string
	if c.p.peek() == '"' || c.p.peek() == '{' {
		pat, err = c.p.astring()
	} else {
		pat, err = c.p.word("%*]")
	}
	if err != nil {
		return "", err
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	ref, _ := c.decodeMailbox(refRaw)
	if refRaw == "" {
		ref = ""
	}
	p, err := c.decodeMailbox(pat)
	if err != nil {
		p = pat
	}
	subs, err := c.srv.Store.Subscriptions(c.ctx, c.acct)
	if err != nil {
		return "", err
	}
	seen := map[string]bool{}
	for _, s := range subs {
		if storage.MatchPattern(ref+p, s) {
			seen[s] = true
			c.w.raw(`* LSUB () "/" `)
			c.mailboxOut(s)
			c.w.crlf()
			continue
		}
		// A "%" that stops at a level: the parent shows as \Noselect.
		for _, parent := range parentsOf(s) {
			if !seen[parent] && storage.MatchPattern(ref+p, parent) {
				seen[parent] = true
				c.w.raw(`* LSUB (\Noselect) "/" `)
				c.mailboxOut(parent)
				c.w.crlf()
			}
		}
	}
	return "", nil
}

func parentsOf(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			out = append(out, name[:i])
		}
	}
	return out
}
