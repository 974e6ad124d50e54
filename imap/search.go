package imap

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"letterbox/storage"
)

// cmdSearch: SEARCH [RETURN (...)] [CHARSET x] keys (RFC 9051 section
// 6.4.4), with ESEARCH return options (RFC 4731) and SEARCHRES (RFC 5182).
func cmdSearch(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	var ret map[string]bool
	if w := c.peekWord(); strings.EqualFold(w, "RETURN") {
		c.p.pos += len(w)
		if err := c.p.sp(); err != nil {
			return "", err
		}
		ret = map[string]bool{}
		err := c.p.list(func() error {
			o, err := c.p.atom()
			if err != nil {
				return err
			}
			o = strings.ToUpper(o)
			switch o {
			case "MIN", "MAX", "ALL", "COUNT", "SAVE":
				ret[o] = true
				return nil
			}
			return bad("Unknown SEARCH return option %s", o)
		})
		if err != nil {
			return "", err
		}
		if len(ret) == 0 {
			ret["ALL"] = true
		}
		if err := c.p.sp(); err != nil {
			return "", err
		}
	}
	if w := c.peekWord(); strings.EqualFold(w, "CHARSET") {
		c.p.pos += len(w)
		if err := c.p.sp(); err != nil {
			return "", err
		}
		cs, err := c.p.astring()
		if err != nil {
			return "", err
		}
		if !strings.EqualFold(cs, "UTF-8") && !strings.EqualFold(cs, "US-ASCII") {
			return "", no("BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset %s", cs)
		}
		if err := c.p.sp(); err != nil {
			return "", err
		}
	}
	crit := &storage.SearchCriteria{}
	for {
		if err := c.searchKey(crit); err != nil {
			return "", err
		}
		if !c.p.maybeSP() {
			break
		}
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	found, err := c.srv.Store.Search(c.ctx, c.acct, c.sel.id, crit)
	if err != nil {
		return "", err
	}
	var uids []storage.UID
	for _, u := range found {
		if c.sel.seqOf(u) != 0 && !c.sel.expunged[u] {
			uids = append(uids, u)
		}
	}
	if ret["SAVE"] {
		c.searchRes = uids
	}
	nums := uids
	if !c.uidCmd {
		nums = make([]storage.UID, len(uids))
		for i, u := range uids {
			nums[i] = storage.UID(c.sel.seqOf(u))
		}
	}
	if ret == nil && !c.rev2 {
		var b []byte
		b = append(b, "* SEARCH"...)
		for _, n := range nums {
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(n), 10)
		}
		c.w.rawBytes(b)
		c.w.crlf()
		return "", nil
	}
	if ret == nil {
		ret = map[string]bool{"ALL": true}
	}
	if ret["SAVE"] && len(ret) == 1 {
		return "", nil // RFC 5182 section 2.1: SAVE alone gives no ESEARCH
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ESEARCH (TAG %q)", tag)
	if c.uidCmd {
		b.WriteString(" UID")
	}
	if len(nums) > 0 {
		if ret["MIN"] {
			fmt.Fprintf(&b, " MIN %d", nums[0])
		}
		if ret["MAX"] {
			fmt.Fprintf(&b, " MAX %d", nums[len(nums)-1])
		}
		if ret["ALL"] {
			fmt.Fprintf(&b, " ALL %s", storage.UIDSetOf(nums...))
		}
	}
	if ret["COUNT"] {
		fmt.Fprintf(&b, " COUNT %d", len(nums))
	}
	c.w.untagged(b.String())
	return "", nil
}

// peekWord returns the atom at the parser position without consuming it.
func (c *conn) peekWord() string {
	save := c.p.pos
	w, _ := c.p.atom()
	c.p.pos = save
	return w
}

// searchKey parses one search key into crit (keys in a list AND together).
func (c *conn) searchKey(crit *storage.SearchCriteria) error {
	c.p.depth++
	defer func() { c.p.depth-- }()
	if c.p.depth > maxDepth {
		return bad("Search program nested too deep")
	}
	switch ch := c.p.peek(); {
	case ch == '(':
		return c.p.list(func() error { return c.searchKey(crit) })
	case ch == '$' || ch == '*' || ch >= '0' && ch <= '9':
		set, err := c.seqSetArg()
		if err != nil {
			return err
		}
		return c.restrict(crit, set, false)
	}
	key, err := c.p.atom()
	if err != nil {
		return err
	}
	key = strings.ToUpper(key)
	str := func() (string, error) {
		if err := c.p.sp(); err != nil {
			return "", err
		}
		return c.p.astring()
	}
	date := func() (time.Time, error) {
		s, err := str()
		if err != nil {
			return time.Time{}, err
		}
		t, err := time.Parse("2-Jan-2006", s)
		if err != nil {
			return time.Time{}, bad("Invalid date %q", s)
		}
		return t, nil
	}
	num := func() (int64, error) {
		if err := c.p.sp(); err != nil {
			return 0, err
		}
		n, err := c.p.number64()
		return int64(n), err
	}
	header := func(field string) error {
		v, err := str()
		crit.Header = append(crit.Header, storage.HeaderMatch{Field: field, Value: v})
		return err
	}
	flag := func(f string, set bool) {
		if set {
			crit.Flags = append(crit.Flags, f)
		} else {
			crit.NotFlags = append(crit.NotFlags, f)
		}
	}
	switch key {
	case "ALL":
	case "ANSWERED", "UNANSWERED":
		flag(storage.FlagAnswered, key == "ANSWERED")
	case "DELETED", "UNDELETED":
		flag(storage.FlagDeleted, key == "DELETED")
	case "DRAFT", "UNDRAFT":
		flag(storage.FlagDraft, key == "DRAFT")
	case "FLAGGED", "UNFLAGGED":
		flag(storage.FlagFlagged, key == "FLAGGED")
	case "SEEN", "UNSEEN":
		flag(storage.FlagSeen, key == "SEEN")
	case "KEYWORD", "UNKEYWORD":
		if err := c.p.sp(); err != nil {
			return err
		}
		k, err := c.flag()
		if err != nil {
			return err
		}
		flag(k, key == "KEYWORD")
	case "RECENT", "NEW", "OLD":
		var recent []storage.UID
		for u := range c.sel.recent {
			recent = append(recent, u)
		}
		set := storage.UIDSetOf(recent...)
		switch key {
		case "OLD":
			crit.Not = append(crit.Not, storage.SearchCriteria{UIDs: set})
		case "NEW":
			flag(storage.FlagSeen, false)
			fallthrough
		default:
			if crit.UIDs != nil {
				set = intersect(crit.UIDs, set)
			}
			crit.UIDs = set
		}
	case "BCC", "CC", "FROM", "SUBJECT", "TO":
		return header(strings.Title(strings.ToLower(key)))
	case "HEADER":
		if err := c.p.sp(); err != nil {
			return err
		}
		field, err := c.p.astring()
		if err != nil {
			return err
		}
		return header(field)
	case "BODY", "TEXT":
		s, err := str()
		if err != nil {
			return err
		}
		if key == "BODY" {
			crit.Body = append(crit.Body, s)
		} else {
			crit.Text = append(crit.Text, s)
		}
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE":
		t, err := date()
		if err != nil {
			return err
		}
		switch key {
		case "BEFORE":
			crit.Before = t
		case "ON":
			crit.On = t
		case "SINCE":
			crit.Since = t
		case "SENTBEFORE":
			crit.SentBefore = t
		case "SENTON":
			crit.SentOn = t
		case "SENTSINCE":
			crit.SentSince = t
		case "SAVEDBEFORE":
			crit.SavedBefore = t
		case "SAVEDON":
			crit.SavedSince, crit.SavedBefore = t, t.AddDate(0, 0, 1)
		case "SAVEDSINCE":
			crit.SavedSince = t
		}
	case "LARGER", "SMALLER":
		n, err := num()
		if err != nil {
			return err
		}
		if key == "LARGER" {
			crit.Larger = n
		} else {
			crit.Smaller = n
		}
	case "UID":
		if err := c.p.sp(); err != nil {
			return err
		}
		set, err := c.seqSetArg()
		if err != nil {
			return err
		}
		return c.restrict(crit, set, true)
	case "NOT":
		if err := c.p.sp(); err != nil {
			return err
		}
		var sub storage.SearchCriteria
		if err := c.searchKey(&sub); err != nil {
			return err
		}
		crit.Not = append(crit.Not, sub)
	case "OR":
		var pair [2]storage.SearchCriteria
		for i := range pair {
			if err := c.p.sp(); err != nil {
				return err
			}
			if err := c.searchKey(&pair[i]); err != nil {
				return err
			}
		}
		crit.Or = append(crit.Or, pair)
	case "MODSEQ":
		// RFC 7162 section 3.1.5: MODSEQ [entry-name entry-type] n
		if err := c.p.sp(); err != nil {
			return err
		}
		if c.p.peek() == '"' {
			if _, err := c.p.quoted(); err != nil {
				return err
			}
			if err := c.p.sp(); err != nil {
				return err
			}
			if _, err := c.p.atom(); err != nil {
				return err
			}
			if err := c.p.sp(); err != nil {
				return err
			}
		}
		n, err := c.p.number64()
		if err != nil {
			return err
		}
		crit.ModSeq = n
	default:
		return bad("Unknown search key %s", key)
	}
	return nil
}

// restrict ANDs a sequence or UID set into crit as a UID set.
func (c *conn) restrict(crit *storage.SearchCriteria, set numSet, uid bool) error {
	var uids []storage.UID
	if set.dollar {
		uids = c.searchRes
	} else if uid {
		var err error
		if uids, err = c.resolve(set, true); err != nil {
			return err
		}
	} else {
		n := uint32(len(c.sel.uids))
		for _, r := range set.ranges {
			a, b := r.start, r.stop
			if a == 0 {
				a = n
			}
			if b == 0 {
				b = n
			}
			if a > b {
				a, b = b, a
			}
			for i := max(a, 1); i <= b && i <= n; i++ {
				uids = append(uids, c.sel.uids[i-1])
			}
		}
	}
	s := storage.UIDSetOf(uids...)
	if crit.UIDs != nil {
		s = intersect(crit.UIDs, s)
	}
	crit.UIDs = s
	return nil
}

// intersect works on ranges, never on every number in them: "1:*" spans
// four billion UIDs.
func intersect(a, b storage.UIDSet) storage.UIDSet {
	norm := func(r storage.UIDRange) (uint64, uint64) {
		lo, hi := uint64(r.Start), uint64(r.Stop)
		if hi == 0 {
			hi = 1<<32 - 1
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		return lo, hi
	}
	out := storage.UIDSet{}
	for _, x := range a {
		xl, xh := norm(x)
		for _, y := range b {
			yl, yh := norm(y)
			lo, hi := max(xl, yl), min(xh, yh)
			if lo <= hi {
				out = append(out, storage.UIDRange{Start: storage.UID(lo), Stop: storage.UID(hi)})
			}
		}
	}
	return out
}
