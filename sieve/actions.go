package sieve

import (
	"slices"
	"strings"
)

// Action conflict rules (RFC 5228 section 4, RFC 5429 section 2.3,
// RFC 5230 section 4.7): reject refuses the message, so it cannot be
// combined with anything that delivers or answers it; the same delivery
// twice is one delivery.

// deliverKey says where a delivering action puts the message, for
// merging duplicates: keep and fileinto "INBOX" are one copy.
func deliverKey(a Action) string {
	switch a := a.(type) {
	case *Keep:
		return "mailbox:INBOX"
	case *FileInto:
		if strings.EqualFold(a.Mailbox, "INBOX") {
			return "mailbox:INBOX"
		}
		return "mailbox:" + a.Mailbox
	case *Redirect:
		// Local parts are case-sensitive (RFC 5321 section 2.4); domains
		// are not.
		local, domain := splitAddr(a.Address)
		return "redirect:" + local + "@" + strings.ToLower(domain)
	}
	return ""
}

func isReject(a Action) bool { _, ok := a.(*Reject); return ok }

func conflictsWithReject(a Action) bool {
	switch a.(type) {
	case *Keep, *FileInto, *Redirect, *Vacation, *Reject:
		return true
	}
	return false
}

func actionName(a Action) string {
	switch a := a.(type) {
	case *Keep:
		return "keep"
	case *FileInto:
		return "fileinto"
	case *Redirect:
		return "redirect"
	case *Discard:
		return "discard"
	case *Reject:
		if a.Extended {
			return "ereject"
		}
		return "reject"
	case *Vacation:
		return "vacation"
	}
	return "action"
}

// addAction adds a to the result, applying the conflict and duplicate
// rules and the limits. cancelsKeep says whether it cancels the implicit
// keep.
func (r *runtime) addAction(p Pos, a Action, cancelsKeep bool) error {
	res := r.res
	for i, prev := range res.Actions {
		if isReject(a) && conflictsWithReject(prev) || isReject(prev) && conflictsWithReject(a) {
			if i < r.executed {
				// An earlier script of the sequence already carried prev
				// out: not an error, but never a second response to the
				// sender (Pigeonhole's multiscript rules).
				_, prevVacation := prev.(*Vacation)
				switch {
				case isReject(a) && deliverKey(prev) != "", isReject(prev) && deliverKey(a) != "":
					continue
				case isReject(a) && prevVacation:
					return r.addAction(p, &Discard{}, true)
				}
				if cancelsKeep {
					r.keep = false
				}
				return nil
			}
			return r.errorf(p, "%s action conflicts with earlier %s action", actionName(a), actionName(prev))
		}
	}
	if _, ok := a.(*Vacation); ok {
		for i, prev := range res.Actions {
			if _, dup := prev.(*Vacation); dup {
				if i < r.executed {
					return nil
				}
				return r.errorf(p, "duplicate vacation action")
			}
		}
	}
	if k := deliverKey(a); k != "" {
		for i, prev := range res.Actions {
			if deliverKey(prev) != k {
				continue
			}
			// Same destination: one copy. The flags of the later action
			// win, as the later action reflects the later state; a copy
			// that was :copy becomes a real one when this one is not.
			res.Actions[i] = mergeDelivery(prev, a)
			if cancelsKeep {
				r.keep = false
			}
			return nil
		}
	}
	if len(res.Actions) >= r.script.limits.MaxActions {
		return r.errorf(p, "total number of actions exceeds the limit (%d)", r.script.limits.MaxActions)
	}
	if _, ok := a.(*Redirect); ok {
		n := 0
		for _, prev := range res.Actions {
			if _, is := prev.(*Redirect); is {
				n++
			}
		}
		if n >= r.script.limits.MaxRedirects {
			return r.errorf(p, "number of redirect actions exceeds the limit (%d)", r.script.limits.MaxRedirects)
		}
	}
	res.Actions = append(res.Actions, a)
	if cancelsKeep {
		r.keep = false
	}
	return nil
}

func mergeDelivery(prev, next Action) Action {
	switch n := next.(type) {
	case *Keep:
		// fileinto "INBOX" then keep is the keep (Pigeonhole marks the
		// merged store as keep; multiscript/conflicts.svtest).
		return n
	case *FileInto:
		c := *n
		if p, ok := prev.(*FileInto); ok {
			c.Mailbox = p.Mailbox // the first spelling ("inbox" vs "INBOX") stays, as Pigeonhole's
			c.Copy = p.Copy && n.Copy
			c.Create = p.Create || n.Create
		}
		if _, ok := prev.(*Keep); ok {
			return &Keep{Flags: n.Flags, Message: n.Message}
		}
		return &c
	case *Redirect:
		c := *n
		if p, ok := prev.(*Redirect); ok {
			c.Address = p.Address
			c.Copy = p.Copy && n.Copy
		}
		return &c
	}
	return next
}

// currentFlags is what keep and fileinto store without :flags.
func (r *runtime) currentFlags() []string {
	if len(r.flags) == 0 {
		return nil
	}
	return slices.Clone(r.flags)
}

// editedMessage is the message to attach to an action: nil unless
// editheader changed it.
func (r *runtime) editedMessage() *Message {
	if r.msg != nil && r.msg.edited {
		return r.msg
	}
	return nil
}
