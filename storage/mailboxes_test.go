package storage

import (
	"context"
	"strings"
	"testing"
)

func names(ms []*Mailbox) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return strings.Join(out, ",")
}

func TestAccounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		check(t, s.AddDomain(ctx, "example.com"))
		wantErr(t, s.AddDomain(ctx, "example.com"), ErrExists)
		wantErr(t, s.AddDomain(ctx, "Bad..name"), ErrInvalidName)
		_, err := s.CreateAccount(ctx, "bob@nowhere.org", "{PLAIN}x", 0)
		wantErr(t, err, ErrNoDomain)
		a := must[*Account](t)(s.CreateAccount(ctx, "Bob@Example.COM", "{PLAIN}x", 1000))
		if a.Name != "bob@example.com" || a.Domain != "example.com" || a.QuotaBytes != 1000 {
			t.Fatalf("account %+v", a)
		}
		_, err = s.CreateAccount(ctx, "bob@example.com", "{PLAIN}y", 0)
		wantErr(t, err, ErrExists)
		_, err = s.CreateAccount(ctx, "no-domain", "{PLAIN}y", 0)
		wantErr(t, err, ErrInvalidName)
		got := must[*Account](t)(s.Account(ctx, "BOB@example.com"))
		if got.ID != a.ID || got.PasswordHash != "{PLAIN}x" {
			t.Fatalf("lookup %+v", got)
		}
		check(t, s.SetPassword(ctx, "bob@example.com", "{PLAIN}new"))
		check(t, s.SetQuota(ctx, "bob@example.com", 5))
		got = must[*Account](t)(s.Account(ctx, "bob@example.com"))
		if got.PasswordHash != "{PLAIN}new" || got.QuotaBytes != 5 {
			t.Fatalf("after update %+v", got)
		}
		wantErr(t, s.SetPassword(ctx, "nobody@example.com", "x"), ErrNotFound)

		boxes := must[[]*Mailbox](t)(s.ListMailboxes(ctx, a, "*"))
		if names(boxes) != "Archive,Drafts,INBOX,Junk,Sent,Trash" {
			t.Fatalf("default mailboxes %s", names(boxes))
		}
		for _, m := range boxes {
			if !m.Subscribed {
				t.Errorf("%s not subscribed", m.Name)
			}
			want := map[string]string{"Archive": SpecialArchive, "Drafts": SpecialDrafts, "Junk": SpecialJunk, "Sent": SpecialSent, "Trash": SpecialTrash}[m.Name]
			if m.SpecialUse != want {
				t.Errorf("%s special-use %q", m.Name, m.SpecialUse)
			}
		}
		accts := must[[]*Account](t)(s.Accounts(ctx, "example.com"))
		if len(accts) != 1 {
			t.Fatalf("accounts %v", accts)
		}
		doms := must[[]string](t)(s.Domains(ctx))
		if strings.Join(doms, ",") != "example.com" {
			t.Fatalf("domains %v", doms)
		}
		inbox := mustMailbox(t, s, a, "inbox")
		must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader("x"), AppendOptions{}))
		check(t, s.DeleteAccount(ctx, "bob@example.com"))
		_, err = s.Account(ctx, "bob@example.com")
		wantErr(t, err, ErrNotFound)
		wantErr(t, s.DeleteAccount(ctx, "bob@example.com"), ErrNotFound)
		rep := must[FsckReport](t)(s.Fsck(ctx))
		if rep.Blobs != 0 || rep.Accounts != 0 || rep.Mailboxes != 0 {
			t.Fatalf("fsck after delete: %+v", rep)
		}
		check(t, s.DeleteDomain(ctx, "example.com"))
		doms = must[[]string](t)(s.Domains(ctx))
		if len(doms) != 0 {
			t.Fatalf("domains after delete %v", doms)
		}
		wantErr(t, s.DeleteDomain(ctx, "example.com"), ErrNoDomain)
	})
}

func TestMailboxes(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		m := must[*Mailbox](t)(s.CreateMailbox(ctx, a, "Work/Projects/Letterbox", ""))
		if m.Name != "Work/Projects/Letterbox" || m.UIDNext != 1 || m.UIDValidity == 0 {
			t.Fatalf("created %+v", m)
		}
		all := must[[]*Mailbox](t)(s.ListMailboxes(ctx, a, "Work*"))
		if names(all) != "Work,Work/Projects,Work/Projects/Letterbox" {
			t.Fatalf("parents: %s", names(all))
		}
		if !all[0].HasChildren || all[2].HasChildren {
			t.Errorf("children flags %v %v", all[0].HasChildren, all[2].HasChildren)
		}
		if got := names(must[[]*Mailbox](t)(s.ListMailboxes(ctx, a, "Work/%"))); got != "Work/Projects" {
			t.Errorf("%% pattern: %s", got)
		}
		if got := names(must[[]*Mailbox](t)(s.ListMailboxes(ctx, a, "inbox"))); got != "INBOX" {
			t.Errorf("inbox pattern: %s", got)
		}
		_, err := s.CreateMailbox(ctx, a, "Work", "")
		wantErr(t, err, ErrExists)
		_, err = s.CreateMailbox(ctx, a, "inbox", "")
		wantErr(t, err, ErrExists)

		before := must[[]*Mailbox](t)(s.ListMailboxes(ctx, a, "*"))
		for _, bad := range []string{"", "a/../b", "..", "a//b", "/a", "a/", "a\x00b", "a\x01b", "a\rb", "a*", "a%b",
			strings.Repeat("x", 600), strings.Repeat("y", 300) + "/z", "\xff\xfe", " lead", "trail /x"} {
			if _, err := s.CreateMailbox(ctx, a, bad, ""); !strings.Contains(errString(err), ErrInvalidName.Error()) {
				t.Errorf("name %q: got %v", bad, err)
			}
		}
		_, err = s.CreateMailbox(ctx, a, "Spam", `\Bogus`)
		wantErr(t, err, ErrInvalidName)
		after := must[[]*Mailbox](t)(s.ListMailboxes(ctx, a, "*"))
		if names(after) != names(before) {
			t.Fatalf("bad names wrote something: %s", names(after))
		}

		// Rename with children keeps UIDVALIDITY and contents.
		must[AppendResult](t)(s.Append(ctx, a, m.ID, strings.NewReader(testMessage("x", "y")), AppendOptions{}))
		check(t, s.RenameMailbox(ctx, a, "Work", "Old/Job"))
		if got := names(must[[]*Mailbox](t)(s.ListMailboxes(ctx, a, "Old*"))); got != "Old,Old/Job,Old/Job/Projects,Old/Job/Projects/Letterbox" {
			t.Fatalf("after rename: %s", got)
		}
		moved := mustMailbox(t, s, a, "Old/Job/Projects/Letterbox")
		if moved.ID != m.ID || moved.UIDValidity != m.UIDValidity || moved.Messages != 1 {
			t.Fatalf("renamed mailbox %+v, was %+v", moved, m)
		}
		wantErr(t, s.RenameMailbox(ctx, a, "Old", "Sent"), ErrExists)
		wantErr(t, s.RenameMailbox(ctx, a, "Nope", "Other"), ErrNotFound)
		wantErr(t, s.RenameMailbox(ctx, a, "Old", "Old/Inside"), ErrInvalidName)

		// Delete: children first; a re-created name gets a larger UIDVALIDITY.
		wantErr(t, s.DeleteMailbox(ctx, a, "Old/Job"), ErrNotEmpty)
		wantErr(t, s.DeleteMailbox(ctx, a, "INBOX"), ErrInboxProtect)
		check(t, s.DeleteMailbox(ctx, a, "Old/Job/Projects/Letterbox"))
		re := must[*Mailbox](t)(s.CreateMailbox(ctx, a, "Old/Job/Projects/Letterbox", ""))
		if re.UIDValidity <= m.UIDValidity || re.Messages != 0 || re.UIDNext != 1 {
			t.Fatalf("re-created %+v (old uidvalidity %d)", re, m.UIDValidity)
		}
		wantErr(t, s.DeleteMailbox(ctx, a, "Nope"), ErrNotFound)
		q := must[Quota](t)(s.Quota(ctx, a))
		if q.UsedBytes != 0 {
			t.Errorf("usage after delete: %+v", q)
		}

		// Subscriptions are independent of existence.
		check(t, s.Subscribe(ctx, a, "Does/Not/Exist"))
		check(t, s.Subscribe(ctx, a, "Does/Not/Exist"))
		subs := must[[]string](t)(s.Subscriptions(ctx, a))
		if !contains(subs, "Does/Not/Exist") {
			t.Fatalf("subscriptions %v", subs)
		}
		check(t, s.Unsubscribe(ctx, a, "Does/Not/Exist"))
		wantErr(t, s.Unsubscribe(ctx, a, "Does/Not/Exist"), ErrNotFound)

		check(t, s.SetSpecialUse(ctx, a, "Old", SpecialFlagged))
		if mustMailbox(t, s, a, "Old").SpecialUse != SpecialFlagged {
			t.Errorf("special use not set")
		}
	})
}

func TestRenameInbox(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		for _, subj := range []string{"a", "b", "c"} {
			must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(testMessage(subj, subj)), AppendOptions{Flags: []string{`\Seen`, "kw"}}))
		}
		check(t, s.RenameMailbox(ctx, a, "INBOX", "Old Inbox"))
		in := mustMailbox(t, s, a, "INBOX")
		old := mustMailbox(t, s, a, "Old Inbox")
		if in.ID != inbox.ID || in.Messages != 0 || in.UIDNext != 4 {
			t.Fatalf("INBOX after rename %+v", in)
		}
		msgs := must[[]Message](t)(s.Messages(ctx, a, old.ID, nil, 0))
		if old.Messages != 3 || len(msgs) != 3 || !msgs[2].Flags.Seen || !msgs[2].Flags.HasKeyword("kw") {
			t.Fatalf("moved %+v %+v", old, msgs)
		}
		ch := must[*Changes](t)(s.Changes(ctx, a, inbox.ID, inbox.HighestModSeq))
		if len(ch.Vanished) != 3 {
			t.Fatalf("INBOX vanished %v", ch.Vanished)
		}
	})
}

func TestMatchPattern(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "a/b/c", true}, {"%", "a/b", false}, {"%", "a", true}, {"a/%", "a/b", true}, {"a/%", "a/b/c", false},
		{"a*c", "a/b/c", true}, {"a%c", "a/b/c", false}, {"a%c", "abc", true}, {"inbox", "INBOX", true},
		{"INBOX/%", "INBOX/x", true}, {"Inbox/*", "INBOX/x/y", true}, {"x", "X", false}, {"", "", true},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 200), false},
	} {
		if got := MatchPattern(c.pattern, c.name); got != c.want {
			t.Errorf("MatchPattern(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
