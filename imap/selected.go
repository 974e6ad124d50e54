package imap

import (
	"errors"
	"sort"

	"letterbox/storage"
)

// selected is this session's view of its selected mailbox: the sequence
// number map and the MODSEQ up to which it has applied changes.
type selected struct {
	id          int64
	name        string
	uidValidity uint32
	readOnly    bool
	uids        []storage.UID // sequence number n is uids[n-1]
	modseq      uint64
	watch       *storage.Watch
	// expunged: UIDs known to be gone but still holding their sequence
	// numbers, because EXPUNGE could not be sent yet.
	expunged map[storage.UID]bool
	// reported: flag changes this session already answered with FETCH, so
	// that sync does not repeat them.
	reported map[storage.UID]uint64
	keywords map[string]bool // keywords announced in FLAGS
	// recent: messages whose \Recent flag this session holds (IMAP4rev1
	// only; RFC 3501 section 2.3.2).
	recent map[storage.UID]bool
}

// claimRecent takes the \Recent flag of messages up to the newest in the
// view, for IMAP4rev1 sessions that selected read-write.
func (s *selected) claimRecent(c *conn) error {
	if c.rev2 || s.readOnly || len(s.uids) == 0 {
		return nil
	}
	from, err := c.srv.Store.ClaimRecent(c.ctx, c.acct, s.id, s.maxUID())
	if err != nil {
		return err
	}
	for i := len(s.uids) - 1; i >= 0 && s.uids[i] >= from; i-- {
		if s.recent == nil {
			s.recent = map[storage.UID]bool{}
		}
		s.recent[s.uids[i]] = true
	}
	return nil
}

// recentCount counts the recent messages still in the view.
func (s *selected) recentCount() int {
	n := 0
	for u := range s.recent {
		if s.seqOf(u) != 0 {
			n++
		}
	}
	return n
}

// writeMsgFlags writes a message's flag list, with \Recent if this session
// holds it.
func (s *selected) writeMsgFlags(w *writer, m storage.Message) {
	if s.recent[m.UID] {
		f := m.Flags
		w.byte('(')
		w.raw(`\Recent`)
		for _, n := range f.Names() {
			w.byte(' ')
			w.raw(n)
		}
		w.byte(')')
		return
	}
	writeFlagList(w, m.Flags)
}

func (s *selected) close() {
	if s.watch != nil {
		s.watch.Close()
	}
}

// seqOf returns the sequence number of uid, or 0.
func (s *selected) seqOf(uid storage.UID) uint32 {
	i := sort.Search(len(s.uids), func(i int) bool { return s.uids[i] >= uid })
	if i < len(s.uids) && s.uids[i] == uid {
		return uint32(i + 1)
	}
	return 0
}

func (s *selected) maxUID() storage.UID {
	if len(s.uids) == 0 {
		return 0
	}
	return s.uids[len(s.uids)-1]
}

// sync asks storage what changed since the view's MODSEQ and tells the
// client: EXPUNGE (only when allowed), EXISTS, FETCH FLAGS. Without force it
// only asks when a wake-up came.
func (s *selected) sync(c *conn, allowExpunge, force bool) error {
	if !force {
		select {
		case <-s.watch.C:
		default:
			if !allowExpunge || len(s.expunged) == 0 {
				return nil
			}
		}
	}
	ch, err := c.srv.Store.Changes(c.ctx, c.acct, s.id, s.modseq)
	if errors.Is(err, storage.ErrNotFound) {
		// Another session deleted or renamed-away our mailbox.
		c.w.untagged("BYE Selected mailbox was deleted")
		c.state = stateLogout
		return err
	}
	if err != nil {
		return err
	}
	for _, uid := range ch.Vanished {
		if s.seqOf(uid) != 0 {
			if s.expunged == nil {
				s.expunged = map[storage.UID]bool{}
			}
			s.expunged[uid] = true
		}
	}
	if allowExpunge && len(s.expunged) > 0 {
		// Highest first, so each number is right when the client applies it.
		for i := len(s.uids) - 1; i >= 0; i-- {
			if s.expunged[s.uids[i]] {
				c.w.raw("* ")
				c.w.num(uint64(i + 1))
				c.w.raw(" EXPUNGE\r\n")
			}
		}
		kept := s.uids[:0]
		for _, u := range s.uids {
			if !s.expunged[u] {
				kept = append(kept, u)
			}
		}
		s.uids = kept
		s.expunged = nil
	}
	var fetches []storage.Message
	added := false
	for _, m := range ch.Changed {
		if m.UID > s.maxUID() {
			s.uids = append(s.uids, m.UID)
			added = true
			continue
		}
		if s.seqOf(m.UID) == 0 || s.expunged[m.UID] {
			continue
		}
		if s.reported[m.UID] >= m.ModSeq {
			continue
		}
		fetches = append(fetches, m)
	}
	if added {
		c.w.raw("* ")
		c.w.num(uint64(len(s.uids)))
		c.w.raw(" EXISTS\r\n")
		if !c.rev2 {
			if err := s.claimRecent(c); err != nil {
				return err
			}
			c.w.raw("* ")
			c.w.num(uint64(s.recentCount()))
			c.w.raw(" RECENT\r\n")
		}
	}
	newKeyword := false
	for _, m := range ch.Changed {
		for _, k := range m.Flags.Keywords {
			if !s.keywords[k] {
				s.keywords[k] = true
				newKeyword = true
			}
		}
	}
	if newKeyword {
		s.writeFlags(c)
	}
	for _, m := range fetches {
		c.w.raw("* ")
		c.w.num(uint64(s.seqOf(m.UID)))
		c.w.raw(" FETCH (")
		if c.uidCmd { // as Dovecot: UID only in answer to a UID command
			c.w.raw("UID ")
			c.w.num(uint64(m.UID))
			c.w.byte(' ')
		}
		c.w.raw("FLAGS ")
		s.writeMsgFlags(&c.w, m)
		c.w.raw(")\r\n")
	}
	s.reported = nil
	if ch.HighestModSeq > s.modseq {
		s.modseq = ch.HighestModSeq
	}
	return nil
}

// writeFlags sends FLAGS and PERMANENTFLAGS.
func (s *selected) writeFlags(c *conn) {
	var kws []string
	for k := range s.keywords {
		kws = append(kws, k)
	}
	sort.Strings(kws)
	list := `\Answered \Flagged \Deleted \Seen \Draft`
	for _, k := range kws {
		list += " " + k
	}
	c.w.untagged("FLAGS (" + list + ")")
	if s.readOnly {
		c.w.untagged("OK [PERMANENTFLAGS ()] Read-only mailbox")
	} else {
		c.w.untagged(`OK [PERMANENTFLAGS (` + list + ` \*)] Flags permitted`)
	}
}

func writeFlagList(w *writer, f storage.Flags) {
	w.byte('(')
	for i, n := range f.Names() {
		if i > 0 {
			w.byte(' ')
		}
		w.raw(n)
	}
	w.byte(')')
}

// noteReported records a flag change the session already answered.
func (s *selected) noteReported(uid storage.UID, modseq uint64) {
	if s.reported == nil {
		s.reported = map[storage.UID]uint64{}
	}
	s.reported[uid] = modseq
}
