package imap

import (
	"sort"

	"letterbox/storage"
)

// numRange is n:m of a sequence set; 0 stands for "*".
type numRange struct{ start, stop uint32 }

// numSet is a sequence set or UID set as the client wrote it; dollar is
// SEARCHRES's "$" (RFC 5182).
type numSet struct {
	ranges []numRange
	dollar bool
}

// seqSetArg reads a sequence-set (RFC 9051 section 9) or "$".
func (c *conn) seqSetArg() (numSet, error) {
	if c.p.peek() == '$' {
		c.p.pos++
		return numSet{dollar: true}, nil
	}
	var s numSet
	for {
		a, err := c.seqNumber()
		if err != nil {
			return s, err
		}
		r := numRange{a, a}
		if c.p.peek() == ':' {
			c.p.pos++
			if r.stop, err = c.seqNumber(); err != nil {
				return s, err
			}
		}
		s.ranges = append(s.ranges, r)
		if len(s.ranges) > 100000 {
			return s, bad("Sequence set too long")
		}
		if c.p.peek() != ',' {
			return s, nil
		}
		c.p.pos++
	}
}

func (c *conn) seqNumber() (uint32, error) {
	if c.p.peek() == '*' {
		c.p.pos++
		return 0, nil
	}
	n, err := c.p.number()
	if err != nil || n == 0 {
		return 0, bad("Invalid sequence set")
	}
	return n, nil
}

// resolve turns a set into the UIDs of the view it names, ascending. With
// uid the set holds UIDs, else sequence numbers (which must exist).
func (c *conn) resolve(set numSet, uid bool) ([]storage.UID, error) {
	s := c.sel
	if set.dollar {
		var out []storage.UID
		for _, u := range c.searchRes {
			if s.seqOf(u) != 0 {
				out = append(out, u)
			}
		}
		return out, nil
	}
	var out []storage.UID
	if uid {
		max := s.maxUID()
		for _, r := range set.ranges {
			a, b := storage.UID(r.start), storage.UID(r.stop)
			if a == 0 {
				a = max
			}
			if b == 0 {
				b = max
			}
			if a > b {
				a, b = b, a
			}
			i := sort.Search(len(s.uids), func(i int) bool { return s.uids[i] >= a })
			for ; i < len(s.uids) && s.uids[i] <= b; i++ {
				out = append(out, s.uids[i])
			}
		}
	} else {
		n := uint32(len(s.uids))
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
			if a == 0 || b > n {
				return nil, bad("Invalid sequence number (mailbox has %d messages)", n)
			}
			for i := a; i <= b; i++ {
				out = append(out, s.uids[i-1])
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	dedup := out[:0]
	for i, u := range out {
		if i == 0 || u != out[i-1] {
			dedup = append(dedup, u)
		}
	}
	return dedup, nil
}
