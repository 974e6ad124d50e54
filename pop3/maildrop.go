package pop3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"letterbox/storage"
)

// maildrop is a session's view of INBOX, taken at login (RFC 1939 section
// 5): message numbers are indexes into msgs plus one and never change.
type maildrop struct {
	mailboxID int64
	msgs      []dropMessage
	count     int   // messages not marked deleted
	size      int64 // their octets
}

type dropMessage struct {
	uid       storage.UID
	size      int64 // stored size: CRLF form, before dot-stuffing
	uidl      string
	deleted   bool // DELE: expunged at QUIT
	retrieved bool // RETR: \Seen at QUIT
}

func openMaildrop(ctx context.Context, st *storage.Store, acct *storage.Account) (*maildrop, error) {
	inbox, err := st.Mailbox(ctx, acct, "INBOX")
	if err != nil {
		return nil, err
	}
	list, err := st.UIDLs(ctx, acct)
	if err != nil {
		return nil, err
	}
	d := &maildrop{mailboxID: inbox.ID, msgs: make([]dropMessage, len(list))}
	for i, u := range list {
		uidl := u.UIDL
		if !validUIDL(uidl) {
			// An imported UIDL no client could parse: use the derived form,
			// which is as stable (UIDVALIDITY and UID never change).
			uidl = fmt.Sprintf("%08x%08x", inbox.UIDValidity, uint32(u.UID))
		}
		d.msgs[i] = dropMessage{uid: u.UID, size: u.Size, uidl: uidl}
		d.size += u.Size
	}
	d.count = len(list)
	return d, nil
}

// validUIDL: RFC 1939 section 7, one to 70 characters from 0x21 to 0x7E.
func validUIDL(s string) bool {
	if len(s) < 1 || len(s) > 70 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// message finds the message an argument names; it must exist and not be
// marked deleted (RFC 1939 section 5).
func (d *maildrop) message(arg string) (*dropMessage, uint64, error) {
	n, ok := parseNumber(arg)
	if !ok {
		return nil, 0, errf("", "Invalid message number")
	}
	if n < 1 || n > uint64(len(d.msgs)) {
		return nil, 0, errf("", "No such message")
	}
	m := &d.msgs[n-1]
	if m.deleted {
		return nil, 0, errf("", "Message %d is deleted", n)
	}
	return m, n, nil
}

func cmdStat(c *conn, args string) error {
	if args != "" {
		return errf("", "STAT takes no arguments")
	}
	return c.ok(fmt.Sprintf("%d %d", c.drop.count, c.drop.size))
}

func cmdList(c *conn, args string) error {
	return c.listing(args, "LIST", func(b []byte, m *dropMessage) []byte { return strconv.AppendInt(b, m.size, 10) })
}

func cmdUidl(c *conn, args string) error {
	return c.listing(args, "UIDL", func(b []byte, m *dropMessage) []byte { return append(b, m.uidl...) })
}

// listing answers LIST and UIDL: one message with an argument, every
// message not marked deleted without one.
func (c *conn) listing(args, name string, value func([]byte, *dropMessage) []byte) error {
	f := fields(args)
	if len(f) > 1 {
		return errf("", "%s takes at most one argument", name)
	}
	var b []byte
	if len(f) == 1 {
		m, n, err := c.drop.message(f[0])
		if err != nil {
			return err
		}
		b = append(b, "+OK "...)
		b = strconv.AppendUint(b, n, 10)
		b = append(value(append(b, ' '), m), "\r\n"...)
		c.bw.Write(b)
		return nil
	}
	c.writeLine(fmt.Sprintf("+OK %d messages (%d octets)", c.drop.count, c.drop.size))
	for i := range c.drop.msgs {
		m := &c.drop.msgs[i]
		if m.deleted {
			continue
		}
		b = strconv.AppendInt(b[:0], int64(i+1), 10)
		b = append(value(append(b, ' '), m), "\r\n"...)
		c.bw.Write(b)
	}
	c.writeLine(".")
	return nil
}

func cmdRetr(c *conn, args string) error {
	f := fields(args)
	if len(f) != 1 {
		return errf("", "RETR needs a message number")
	}
	m, _, err := c.drop.message(f[0])
	if err != nil {
		return err
	}
	content, err := c.open(m)
	if err != nil {
		return err
	}
	defer content.Close()
	c.writeLine("+OK " + strconv.FormatInt(m.size, 10) + " octets")
	st := newStuffer(c.bw)
	if _, err := io.CopyBuffer(st, content.Reader(), c.buffer()); err != nil {
		return &abortError{err}
	}
	if err := st.end(); err != nil {
		return &abortError{err}
	}
	m.retrieved = true
	return nil
}

// cmdTop sends the header, the blank line and the first lines of the body
// (RFC 1939 section 7). A line count past the end sends the whole message.
func cmdTop(c *conn, args string) error {
	f := fields(args)
	if len(f) != 2 {
		return errf("", "TOP needs a message number and a number of lines")
	}
	m, _, err := c.drop.message(f[0])
	if err != nil {
		return err
	}
	lines, ok := parseNumber(f[1])
	if !ok {
		return errf("", "Invalid number of lines")
	}
	msgs, err := c.srv.Store.Messages(c.ctx, c.acct, c.drop.mailboxID, storage.UIDSetOf(m.uid), storage.WantParsed)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return errGone
	}
	content, err := c.open(m)
	if err != nil {
		return err
	}
	defer content.Close()
	headerSize := content.Size()
	if p := msgs[0].Parsed; p != nil && p.Root != nil {
		headerSize = min(p.Root.HeaderSize, headerSize)
	}
	c.writeLine("+OK Top of message follows")
	st := newStuffer(c.bw)
	if _, err := io.CopyBuffer(st, content.Section(0, headerSize), c.buffer()); err != nil {
		return &abortError{err}
	}
	if err := copyLines(st, content.Section(headerSize, content.Size()-headerSize), lines, c.buffer()); err != nil {
		return &abortError{err}
	}
	if err := st.end(); err != nil {
		return &abortError{err}
	}
	return nil
}

// errGone answers for a message that an IMAP session expunged after this
// session's snapshot was taken.
var errGone = errf("", "Message was deleted by another session")

func (c *conn) open(m *dropMessage) (*storage.Content, error) {
	content, err := c.srv.Store.Open(c.ctx, c.acct, c.drop.mailboxID, m.uid)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errGone
	}
	return content, err
}

func (c *conn) buffer() []byte {
	if c.copyBuf == nil {
		c.copyBuf = make([]byte, 64<<10)
	}
	return c.copyBuf
}

func cmdDele(c *conn, args string) error {
	f := fields(args)
	if len(f) != 1 {
		return errf("", "DELE needs a message number")
	}
	m, n, err := c.drop.message(f[0])
	if err != nil {
		return err
	}
	m.deleted = true
	c.drop.count--
	c.drop.size -= m.size
	return c.ok(fmt.Sprintf("Message %d deleted", n))
}

func cmdNoop(c *conn, args string) error {
	if args != "" {
		return errf("", "NOOP takes no arguments")
	}
	return c.ok("")
}

// cmdRset undoes this session's marks: deletions, and the \Seen that
// RETR would set at QUIT.
func cmdRset(c *conn, args string) error {
	if args != "" {
		return errf("", "RSET takes no arguments")
	}
	d := c.drop
	d.count, d.size = len(d.msgs), 0
	for i := range d.msgs {
		d.msgs[i].deleted, d.msgs[i].retrieved = false, false
		d.size += d.msgs[i].size
	}
	return c.ok(fmt.Sprintf("Maildrop has %d messages (%d octets)", d.count, d.size))
}

// update is the UPDATE state (RFC 1939 section 6), entered by QUIT from
// the TRANSACTION state: messages marked deleted get \Deleted and are
// expunged, then retrieved ones get \Seen. Each is an ordinary storage
// change, seen by IMAP sessions once committed.
func (c *conn) update() error {
	var del, seen []storage.UID
	for _, m := range c.drop.msgs {
		switch {
		case m.deleted:
			del = append(del, m.uid)
		case m.retrieved:
			seen = append(seen, m.uid)
		}
	}
	expunged, err := c.drop.expunge(c.ctx, c.srv.Store, c.acct, del)
	if err != nil {
		c.log.Error("UPDATE: expunge", "err", err, "marked", len(del))
		c.srv.unlock(c.lockedAs, c)
		c.lockedAs = ""
		c.writeLine("-ERR [SYS/TEMP] Some deleted messages were not removed")
		return nil
	}
	if len(seen) > 0 {
		req := storage.StoreRequest{Mode: storage.StoreAdd, Flags: []string{storage.FlagSeen}}
		if _, err := c.srv.Store.StoreFlags(c.ctx, c.acct, c.drop.mailboxID, storage.UIDSetOf(seen...), req); err != nil {
			// Not worth failing QUIT for: the deletions are done.
			c.log.Warn("UPDATE: set \\Seen", "err", err)
		}
	}
	// Unlock before the reply goes out: a client that logs in again as soon
	// as it reads +OK must not find its own old session holding the lock.
	c.srv.unlock(c.lockedAs, c)
	c.lockedAs = ""
	c.log.Info("logout", "deleted", expunged, "retrieved", len(seen))
	if c.drop.count == 0 {
		return c.ok("Letterbox POP3 server signing off (maildrop empty)")
	}
	return c.ok(fmt.Sprintf("Letterbox POP3 server signing off (%d messages left)", c.drop.count))
}

// expunge removes the given messages: flag them \Deleted, then expunge
// exactly those UIDs, so that messages an IMAP client flagged \Deleted stay
// for that client to expunge. A UID that IMAP already expunged is not an
// error.
func (d *maildrop) expunge(ctx context.Context, st *storage.Store, acct *storage.Account, uids []storage.UID) (int, error) {
	if len(uids) == 0 {
		return 0, nil
	}
	set := storage.UIDSetOf(uids...)
	req := storage.StoreRequest{Mode: storage.StoreAdd, Flags: []string{storage.FlagDeleted}}
	if _, err := st.StoreFlags(ctx, acct, d.mailboxID, set, req); err != nil {
		return 0, err
	}
	gone, err := st.Expunge(ctx, acct, d.mailboxID, set)
	return len(gone), err
}
