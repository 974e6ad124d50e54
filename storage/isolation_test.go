package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestIsolation calls, as account B, every Store method that takes an
// account and a mailbox id or UID with A's ids and UIDs. Each must answer
// ErrNotFound and leave A's data (and B's) as it was.
func TestIsolation(t *testing.T) {
	for _, sc := range []struct{ name, a, b string }{
		{"same-domain", "alice@example.com", "bob@example.com"},
		{"cross-domain", "alice@x.org", "bob@y.org"},
	} {
		t.Run(sc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, s *Store) {
				isolationCase(t, s, sc.a, sc.b)
			})
		})
	}
}

// isoSnapshot renders everything an account owns, for before/after
// comparisons.
func isoSnapshot(t *testing.T, s *Store, a *Account) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, mb := range must[[]*Mailbox](t)(s.ListMailboxes(ctx, a, "*")) {
		fmt.Fprintf(&b, "mailbox %q id=%d uidvalidity=%d uidnext=%d highestmodseq=%d use=%q messages=%d unseen=%d deleted=%d size=%d floor=%d subscribed=%v\n",
			mb.Name, mb.ID, mb.UIDValidity, mb.UIDNext, mb.HighestModSeq, mb.SpecialUse, mb.Messages, mb.Unseen, mb.Deleted,
			mb.Size, mb.VanishedFloor, mb.Subscribed)
		for _, m := range must[[]Message](t)(s.Messages(ctx, a, mb.ID, nil, WantHeader)) {
			fmt.Fprintf(&b, "  uid=%d modseq=%d date=%d size=%d flags=[%s] uidl=%q blob=%x header=%x\n",
				m.UID, m.ModSeq, m.InternalDate.Unix(), m.Size, concFlagKey(m.Flags), m.UIDL, m.Blob, sha256.Sum256(m.Header))
		}
		ch := must[*Changes](t)(s.Changes(ctx, a, mb.ID, 0))
		fmt.Fprintf(&b, "  changes highest=%d vanished=%v\n", ch.HighestModSeq, ch.Vanished)
	}
	fmt.Fprintf(&b, "subscriptions %q\n", must[[]string](t)(s.Subscriptions(ctx, a)))
	for _, sc := range must[[]SieveScript](t)(s.SieveScripts(ctx, a)) {
		full := must[*SieveScript](t)(s.SieveScript(ctx, a, sc.Name))
		fmt.Fprintf(&b, "sieve %q active=%v content=%q\n", sc.Name, sc.Active, full.Content)
	}
	fmt.Fprintf(&b, "quota %+v\n", must[Quota](t)(s.Quota(ctx, a)))
	fmt.Fprintf(&b, "uidls %v\n", must[[]UIDL](t)(s.UIDLs(ctx, a)))
	return b.String()
}

func isolationCase(t *testing.T, s *Store, loginA, loginB string) {
	ctx := context.Background()
	A := newAccount(t, s, loginA)
	// Padding: in SQLite every domain file numbers its mailboxes from 1, so
	// across domains A's ids would also be B's. Give A ids B cannot have.
	for i := range 12 {
		must[*Mailbox](t)(s.CreateMailbox(ctx, A, fmt.Sprintf("Pad%d", i), ""))
	}
	B := newAccount(t, s, loginB)

	aInbox := mustMailbox(t, s, A, "INBOX")
	aPriv := must[*Mailbox](t)(s.CreateMailbox(ctx, A, "Private", ""))
	aOther := must[*Mailbox](t)(s.CreateMailbox(ctx, A, "Private/Other", SpecialArchive))
	aBlobs := map[string]bool{}
	for _, mb := range []*Mailbox{aInbox, aPriv, aOther} {
		for i, fl := range [][]string{{FlagSeen}, {FlagDeleted, "$Secret"}, nil} {
			msg := testMessage(fmt.Sprintf("alice-%d-%d", mb.ID, i), "for alice's eyes only, mailbox "+mb.Name)
			must[AppendResult](t)(s.Append(ctx, A, mb.ID, strings.NewReader(msg), AppendOptions{Flags: fl, UIDL: fmt.Sprintf("alice-uidl-%d-%d", mb.ID, i)}))
			aBlobs[string(isoSHA256(msg))] = true
		}
	}
	// A tombstone, so that Changes has a VANISHED to leak.
	must[StoreResult](t)(s.StoreFlags(ctx, A, aOther.ID, UIDSetOf(3), StoreRequest{Mode: StoreAdd, Flags: []string{FlagDeleted}}))
	must[[]UID](t)(s.Expunge(ctx, A, aOther.ID, UIDSetOf(3)))
	check(t, s.Subscribe(ctx, A, "Secret/Folder"))
	check(t, s.PutSieveScript(ctx, A, "a-filter", "keep;"))
	check(t, s.PutSieveScript(ctx, A, "a-other", "discard;"))
	check(t, s.ActivateSieveScript(ctx, A, "a-filter"))

	bInbox := mustMailbox(t, s, B, "INBOX")
	for i := range 2 {
		must[AppendResult](t)(s.Append(ctx, B, bInbox.ID, strings.NewReader(testMessage(fmt.Sprintf("bob-%d", i), "bob's")), AppendOptions{}))
	}
	bMine := must[*Mailbox](t)(s.CreateMailbox(ctx, B, "Mine", ""))
	must[AppendResult](t)(s.Append(ctx, B, bMine.ID, strings.NewReader(testMessage("bob-mine", "bob's")), AppendOptions{}))

	beforeA := isoSnapshot(t, s, A)
	beforeB := isoSnapshot(t, s, B)

	bIDs := map[int64]bool{}
	for _, mb := range must[[]*Mailbox](t)(s.ListMailboxes(ctx, B, "*")) {
		bIDs[mb.ID] = true
	}

	notFound := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("as B: %s: got %v, want ErrNotFound", what, err)
		}
	}

	tested := 0
	for _, target := range []*Mailbox{aInbox, aPriv, aOther} {
		m := target.ID
		if bIDs[m] {
			// Only possible across SQLite domain files: the id names one of
			// B's own mailboxes there. Then B must see B's data, never A's.
			t.Logf("mailbox id %d is A's %q in %s and one of B's in %s", m, target.Name, A.Domain, B.Domain)
			isoNoLeak(t, s, B, m, aBlobs)
			continue
		}
		tested++
		other := aPriv.ID
		if m == aPriv.ID {
			other = aOther.ID
		}
		uids := []UID{1, 2, 3}
		set := UIDSetOf(uids...)
		w := func(op string) string { return fmt.Sprintf("%s on A's %q (id %d)", op, target.Name, m) }

		_, err := s.MailboxByID(ctx, B, m)
		notFound(w("MailboxByID"), err)
		_, err = s.Messages(ctx, B, m, nil, 0)
		notFound(w("Messages(all)"), err)
		_, err = s.Messages(ctx, B, m, set, WantParsed|WantHeader)
		notFound(w("Messages(1:3, parsed, header)"), err)
		for _, u := range uids {
			c, err := s.Open(ctx, B, m, u)
			if err == nil {
				c.Close()
			}
			notFound(w(fmt.Sprintf("Open UID %d", u)), err)
		}
		_, err = s.Append(ctx, B, m, strings.NewReader(testMessage("intruder", "from bob")), AppendOptions{Flags: []string{FlagFlagged}})
		notFound(w("Append"), err)
		_, err = s.Copy(ctx, B, m, nil, bInbox.ID)
		notFound(w("Copy to B's INBOX"), err)
		_, err = s.Copy(ctx, B, m, set, bInbox.ID)
		notFound(w("Copy 1:3 to B's INBOX"), err)
		_, err = s.Copy(ctx, B, bInbox.ID, nil, m)
		notFound(w("Copy from B's INBOX into"), err)
		_, err = s.Copy(ctx, B, m, nil, other)
		notFound(w(fmt.Sprintf("Copy to A's %d", other)), err)
		_, err = s.Move(ctx, B, m, nil, bInbox.ID)
		notFound(w("Move to B's INBOX"), err)
		_, err = s.Move(ctx, B, bInbox.ID, nil, m)
		notFound(w("Move from B's INBOX into"), err)
		_, err = s.Move(ctx, B, m, set, other)
		notFound(w(fmt.Sprintf("Move to A's %d", other)), err)
		_, err = s.Expunge(ctx, B, m, nil)
		notFound(w("Expunge(all)"), err)
		_, err = s.Expunge(ctx, B, m, set)
		notFound(w("Expunge(1:3)"), err)
		for _, req := range []StoreRequest{
			{Mode: StoreAdd, Flags: []string{FlagSeen, FlagFlagged, "$Stolen"}},
			{Mode: StoreRemove, Flags: []string{FlagDeleted, FlagSeen, "$Secret"}},
			{Mode: StoreReplace, Flags: nil},
			{Mode: StoreAdd, Flags: []string{FlagDeleted}, UnchangedSince: 1},
		} {
			_, err = s.StoreFlags(ctx, B, m, nil, req)
			notFound(w(fmt.Sprintf("StoreFlags %+v", req)), err)
		}
		_, err = s.Changes(ctx, B, m, 0)
		notFound(w("Changes(0)"), err)
		_, err = s.Changes(ctx, B, m, target.HighestModSeq)
		notFound(w("Changes(highest)"), err)
		for _, c := range []*SearchCriteria{
			{},
			{UIDs: set},
			{Header: []HeaderMatch{{"Subject", "alice"}}},
			{Body: []string{"eyes"}},
			{Text: []string{"alice"}},
		} {
			_, err = s.Search(ctx, B, m, c)
			notFound(w(fmt.Sprintf("Search %+v", *c)), err)
		}
	}
	if tested < 2 {
		t.Fatalf("only %d of A's mailbox ids could be tried as B", tested)
	}

	// By name: B has no mailbox, subscription or script of A's.
	_, err := s.Mailbox(ctx, B, "Private")
	notFound("Mailbox(Private)", err)
	_, err = s.Mailbox(ctx, B, "Pad3")
	notFound("Mailbox(Pad3)", err)
	for _, mb := range must[[]*Mailbox](t)(s.ListMailboxes(ctx, B, "*")) {
		if strings.HasPrefix(mb.Name, "Pad") || strings.HasPrefix(mb.Name, "Private") || mb.ID == aPriv.ID || mb.ID == aOther.ID {
			t.Errorf("B lists %q (id %d)", mb.Name, mb.ID)
		}
	}
	notFound("DeleteMailbox(Private)", s.DeleteMailbox(ctx, B, "Private"))
	notFound("DeleteMailbox(Private/Other)", s.DeleteMailbox(ctx, B, "Private/Other"))
	notFound("RenameMailbox(Private)", s.RenameMailbox(ctx, B, "Private", "Stolen"))
	notFound("SetSpecialUse(Private)", s.SetSpecialUse(ctx, B, "Private", SpecialArchive))
	if subs := must[[]string](t)(s.Subscriptions(ctx, B)); slices.Contains(subs, "Secret/Folder") {
		t.Errorf("B's subscriptions %q hold A's", subs)
	}
	notFound("Unsubscribe(Secret/Folder)", s.Unsubscribe(ctx, B, "Secret/Folder"))
	for _, sc := range must[[]SieveScript](t)(s.SieveScripts(ctx, B)) {
		t.Errorf("B lists sieve script %q", sc.Name)
	}
	_, err = s.SieveScript(ctx, B, "a-filter")
	notFound("SieveScript(a-filter)", err)
	_, err = s.ActiveSieveScript(ctx, B)
	notFound("ActiveSieveScript", err)
	notFound("ActivateSieveScript(a-other)", s.ActivateSieveScript(ctx, B, "a-other"))
	notFound("DeleteSieveScript(a-other)", s.DeleteSieveScript(ctx, B, "a-other"))
	notFound("RenameSieveScript(a-other)", s.RenameSieveScript(ctx, B, "a-other", "b-renamed"))

	if after := isoSnapshot(t, s, A); after != beforeA {
		t.Errorf("A's data changed under B's calls:\n--- before\n%s--- after\n%s", beforeA, after)
	}
	if after := isoSnapshot(t, s, B); after != beforeB {
		t.Errorf("B's data changed by calls that failed:\n--- before\n%s--- after\n%s", beforeB, after)
	}

	// A delivery for B naming one of A's mailboxes fails for that target
	// only; the other target of the same delivery is stored.
	in := must[*Incoming](t)(s.Receive(strings.NewReader(testMessage("bob-deliver", "mixed targets"))))
	res := s.Deliver(ctx, in, []Target{{Account: B, MailboxID: bInbox.ID}, {Account: B, MailboxID: aPriv.ID}})
	in.Close()
	if res[0].Err != nil {
		t.Errorf("Deliver to B's INBOX: %v", res[0].Err)
	}
	notFound("Deliver to A's Private", res[1].Err)

	// B may use the same names for its own things; A's stay A's.
	check(t, s.PutSieveScript(ctx, B, "a-filter", "discard;"))
	check(t, s.ActivateSieveScript(ctx, B, "a-filter"))
	must[*Mailbox](t)(s.CreateMailbox(ctx, B, "Private", ""))
	check(t, s.Subscribe(ctx, B, "Secret/Folder"))
	check(t, s.Unsubscribe(ctx, B, "Secret/Folder"))
	check(t, s.DeleteMailbox(ctx, B, "Private"))
	if after := isoSnapshot(t, s, A); after != beforeA {
		t.Errorf("A's data changed when B used the same names:\n--- before\n%s--- after\n%s", beforeA, after)
	}
}

func isoSHA256(s string) []byte {
	h := sha256.Sum256([]byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")))
	return h[:]
}

// isoNoLeak checks that whatever B reads through mailbox id m is not A's.
func isoNoLeak(t *testing.T, s *Store, B *Account, m int64, aBlobs map[string]bool) {
	t.Helper()
	ctx := context.Background()
	msgs, err := s.Messages(ctx, B, m, nil, 0)
	if err != nil {
		return
	}
	for _, msg := range msgs {
		if aBlobs[string(msg.Blob)] {
			t.Errorf("as B: Messages of id %d returned A's message (blob %x)", m, msg.Blob)
		}
		c, err := s.Open(ctx, B, m, msg.UID)
		if err != nil {
			continue
		}
		h := sha256.New()
		io.Copy(h, c.Reader())
		c.Close()
		if aBlobs[string(h.Sum(nil))] {
			t.Errorf("as B: Open of id %d UID %d returned A's content", m, msg.UID)
		}
	}
}
