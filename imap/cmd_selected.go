package imap

import (
	"errors"
	"fmt"
	"strings"

	"letterbox/storage"
)

func cmdCheck(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	return "", c.sel.sync(c, true, true)
}

func (c *conn) deselect() {
	c.sel.close()
	c.sel, c.state = nil, stateAuth
}

// cmdClose expunges silently (unless read-only) and deselects.
func cmdClose(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	if !c.sel.readOnly {
		if _, err := c.srv.Store.Expunge(c.ctx, c.acct, c.sel.id, nil); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return "", err
		}
	}
	c.deselect()
	return "", nil
}

func cmdUnselect(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	c.deselect()
	return "", nil
}

// cmdExpunge: EXPUNGE, or UID EXPUNGE set (UIDPLUS). The EXPUNGE responses
// come from the sync after the command, like anyone else's.
func cmdExpunge(c *conn, tag string) (string, error) {
	var set storage.UIDSet
	if c.uidCmd {
		if err := c.p.sp(); err != nil {
			return "", err
		}
		ns, err := c.seqSetArg()
		if err != nil {
			return "", err
		}
		uids, err := c.resolve(ns, true)
		if err != nil {
			return "", err
		}
		set = storage.UIDSetOf(uids...)
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	if c.sel.readOnly {
		return "", no("READ-ONLY", "Mailbox is read-only")
	}
	_, err := c.srv.Store.Expunge(c.ctx, c.acct, c.sel.id, set)
	return "", err
}

// cmdStore: STORE set [(UNCHANGEDSINCE n)] (+|-)FLAGS[.SILENT] flags.
func cmdStore(c *conn, tag string) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	ns, err := c.seqSetArg()
	if err != nil {
		return "", err
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	var unchangedSince uint64
	if c.p.peek() == '(' {
		err := c.p.list(func() error {
			m, err := c.p.atom()
			if err != nil || !strings.EqualFold(m, "UNCHANGEDSINCE") {
				return bad("Unknown STORE modifier")
			}
			if err := c.p.sp(); err != nil {
				return err
			}
			unchangedSince, err = c.p.number64()
			return err
		})
		if err != nil {
			return "", err
		}
		if err := c.p.sp(); err != nil {
			return "", err
		}
	}
	item, err := c.p.word("+.")
	if err != nil {
		return "", err
	}
	item = strings.ToUpper(item)
	silent := strings.HasSuffix(item, ".SILENT")
	item = strings.TrimSuffix(item, ".SILENT")
	var mode storage.StoreMode
	switch item {
	case "FLAGS":
		mode = storage.StoreReplace
	case "+FLAGS":
		mode = storage.StoreAdd
	case "-FLAGS":
		mode = storage.StoreRemove
	default:
		return "", bad("Unknown STORE item %s", item)
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	var flags []string
	if c.p.peek() == '(' {
		if flags, err = c.flagList(); err != nil {
			return "", err
		}
	} else {
		for {
			f, err := c.flag()
			if err != nil {
				return "", err
			}
			flags = append(flags, f)
			if !c.p.maybeSP() {
				break
			}
		}
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	uids, err := c.resolve(ns, c.uidCmd)
	if err != nil {
		return "", err
	}
	if c.sel.readOnly {
		return "", no("READ-ONLY", "Mailbox is read-only")
	}
	if len(uids) == 0 {
		return "", nil
	}
	res, err := c.srv.Store.StoreFlags(c.ctx, c.acct, c.sel.id, storage.UIDSetOf(uids...),
		storage.StoreRequest{Mode: mode, Flags: flags, UnchangedSince: unchangedSince})
	if err != nil {
		return "", err
	}
	for _, m := range res.Changed {
		c.sel.noteReported(m.UID, m.ModSeq)
		for _, k := range m.Flags.Keywords {
			if !c.sel.keywords[k] {
				c.sel.keywords[k] = true
				c.sel.writeFlags(c)
			}
		}
	}
	if !silent {
		msgs, err := c.srv.Store.Messages(c.ctx, c.acct, c.sel.id, storage.UIDSetOf(uids...), 0)
		if err != nil {
			return "", err
		}
		modified := map[storage.UID]bool{}
		for _, u := range res.Modified {
			modified[u] = true
		}
		for _, m := range msgs {
			if modified[m.UID] {
				continue
			}
			seq := c.sel.seqOf(m.UID)
			c.w.raw(fmt.Sprintf("* %d FETCH (", seq))
			if c.uidCmd {
				c.w.raw(fmt.Sprintf("UID %d ", m.UID))
			}
			c.w.raw("FLAGS ")
			c.sel.writeMsgFlags(&c.w, m)
			c.w.raw(")\r\n")
		}
	}
	if len(res.Modified) > 0 {
		// RFC 7162 section 3.1.3: the MODIFIED response code.
		set := storage.UIDSetOf(res.Modified...)
		if !c.uidCmd {
			var seqs []storage.UID
			for _, u := range res.Modified {
				seqs = append(seqs, storage.UID(c.sel.seqOf(u)))
			}
			set = storage.UIDSetOf(seqs...)
		}
		return fmt.Sprintf("[MODIFIED %s] Conditional STORE failed", set), nil
	}
	return "", nil
}

func cmdCopy(c *conn, tag string) (string, error) { return copyOrMove(c, false) }
func cmdMove(c *conn, tag string) (string, error) { return copyOrMove(c, true) }

func copyOrMove(c *conn, move bool) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	ns, err := c.seqSetArg()
	if err != nil {
		return "", err
	}
	if err := c.p.sp(); err != nil {
		return "", err
	}
	name, err := c.mailboxArg()
	if err != nil {
		return "", err
	}
	if err := c.p.end(); err != nil {
		return "", err
	}
	uids, err := c.resolve(ns, c.uidCmd)
	if err != nil {
		return "", err
	}
	if move && c.sel.readOnly {
		return "", no("READ-ONLY", "Mailbox is read-only")
	}
	dst, err := c.srv.Store.Mailbox(c.ctx, c.acct, name)
	if errors.Is(err, storage.ErrNotFound) {
		return "", no("TRYCREATE", "No such mailbox")
	}
	if err != nil {
		return "", err
	}
	if len(uids) == 0 {
		return "", nil
	}
	var res storage.CopyResult
	if move {
		res, err = c.srv.Store.Move(c.ctx, c.acct, c.sel.id, storage.UIDSetOf(uids...), dst.ID)
	} else {
		res, err = c.srv.Store.Copy(c.ctx, c.acct, c.sel.id, storage.UIDSetOf(uids...), dst.ID)
	}
	if err != nil {
		return "", err
	}
	if len(res.Source) == 0 {
		return "", nil
	}
	code := fmt.Sprintf("COPYUID %d %s %s", res.UIDValidity, uidList(res.Source), uidList(res.Dest))
	if move {
		// RFC 6851 section 4.3: COPYUID in an untagged OK before the EXPUNGEs.
		c.w.untagged("OK [" + code + "] Moved")
		return "", nil
	}
	return "[" + code + "] COPY completed", nil
}

// uidList writes UIDs in order as a set, keeping the pairing of COPYUID.
func uidList(uids []storage.UID) string {
	var b strings.Builder
	for i := 0; i < len(uids); {
		j := i
		for j+1 < len(uids) && uids[j+1] == uids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d:%d", uids[i], uids[j])
		} else {
			fmt.Fprintf(&b, "%d", uids[i])
		}
		i = j + 1
	}
	return b.String()
}
