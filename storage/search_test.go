package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSearch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		msgs := []struct {
			hdr, body string
			date      time.Time
			flags     []string
		}{
			{"Subject: Lunch plans\r\nFrom: alice@example.org\r\nDate: Mon, 2 Nov 2026 12:00:00 +0000", "Pizza at noon?", time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC), []string{`\Seen`}},
			{"Subject: =?UTF-8?Q?R=C3=A9union?=\r\nFrom: carol@example.net\r\nDate: Tue, 10 Nov 2026 23:30:00 -0800", "Ordre du jour", time.Date(2026, 11, 10, 23, 30, 0, 0, time.FixedZone("", -8*3600)), []string{`\Flagged`, "Work"}},
			{"Subject: Invoice\r\nFrom: billing@example.com\r\nX-Spam-Flag: YES\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64", "SsO6bmlvciBwYWdvIGVuIGV1cm9zCg==", time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC), nil},
			{"Subject: Big one\r\nFrom: alice@example.org", strings.Repeat("filler ", 2000) + "needle", time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC), []string{`\Deleted`}},
		}
		var modseqs []uint64
		for _, m := range msgs {
			r := must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader(m.hdr+"\r\n\r\n"+m.body+"\r\n"), AppendOptions{Flags: m.flags, InternalDate: m.date}))
			modseqs = append(modseqs, r.ModSeq)
		}
		day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
		for i, c := range []struct {
			crit SearchCriteria
			want string
		}{
			{SearchCriteria{}, "1 2 3 4"},
			{SearchCriteria{Flags: []string{`\Seen`}}, "1"},
			{SearchCriteria{NotFlags: []string{`\Seen`}}, "2 3 4"},
			{SearchCriteria{Flags: []string{"work"}}, "2"},
			{SearchCriteria{Header: []HeaderMatch{{"Subject", "lunch"}}}, "1"},
			{SearchCriteria{Header: []HeaderMatch{{"subject", "réunion"}}}, "2"},
			{SearchCriteria{Header: []HeaderMatch{{"X-Spam-Flag", ""}}}, "3"},
			{SearchCriteria{Header: []HeaderMatch{{"From", "ALICE"}}}, "1 4"},
			{SearchCriteria{Body: []string{"pizza"}}, "1"},
			{SearchCriteria{Body: []string{"júnior pago"}}, "3"},
			{SearchCriteria{Body: []string{"needle"}}, "4"},
			{SearchCriteria{Text: []string{"billing@"}}, "3"},
			{SearchCriteria{Body: []string{"billing@"}}, ""},
			{SearchCriteria{Since: day(10)}, "2 3 4"},
			{SearchCriteria{Before: day(10)}, "1"},
			{SearchCriteria{On: day(10)}, "2"}, // 23:30 -0800 is the 10th in its own zone
			{SearchCriteria{SentOn: day(10)}, "2"},
			{SearchCriteria{SentBefore: day(3)}, "1"},
			{SearchCriteria{Larger: 1000}, "4"},
			{SearchCriteria{Smaller: 1000}, "1 2 3"},
			{SearchCriteria{UIDs: UIDSet{{2, 3}}}, "2 3"},
			{SearchCriteria{Not: []SearchCriteria{{Flags: []string{`\Deleted`}}}}, "1 2 3"},
			{SearchCriteria{Or: [][2]SearchCriteria{{{Flags: []string{`\Seen`}}, {Flags: []string{`\Flagged`}}}}}, "1 2"},
			{SearchCriteria{Header: []HeaderMatch{{"From", "alice"}}, Not: []SearchCriteria{{Body: []string{"needle"}}}}, "1"},
			{SearchCriteria{ModSeq: modseqs[2]}, "3 4"},
		} {
			got := must[[]UID](t)(s.Search(ctx, a, inbox.ID, &c.crit))
			var parts []string
			for _, u := range got {
				parts = append(parts, fmt.Sprint(u))
			}
			if strings.Join(parts, " ") != c.want {
				t.Errorf("case %d %+v: got %v, want %s", i, c.crit, parts, c.want)
			}
		}
	})
}

func TestSieveScripts(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		_, err := s.ActiveSieveScript(ctx, a)
		wantErr(t, err, ErrNotFound)
		check(t, s.PutSieveScript(ctx, a, "main", `keep;`))
		check(t, s.PutSieveScript(ctx, a, "vacation", `discard;`))
		check(t, s.PutSieveScript(ctx, a, "main", `fileinto "Junk";`))
		wantErr(t, s.PutSieveScript(ctx, a, "", `keep;`), ErrInvalidName)
		wantErr(t, s.PutSieveScript(ctx, a, "a\nb", `keep;`), ErrInvalidName)
		check(t, s.ActivateSieveScript(ctx, a, "main"))
		check(t, s.ActivateSieveScript(ctx, a, "vacation"))
		act := must[*SieveScript](t)(s.ActiveSieveScript(ctx, a))
		if act.Name != "vacation" || act.Content != `discard;` {
			t.Fatalf("active %+v", act)
		}
		list := must[[]SieveScript](t)(s.SieveScripts(ctx, a))
		if len(list) != 2 || list[0].Name != "main" || list[0].Active || !list[1].Active {
			t.Fatalf("list %+v", list)
		}
		wantErr(t, s.DeleteSieveScript(ctx, a, "vacation"), ErrActiveScript)
		wantErr(t, s.RenameSieveScript(ctx, a, "main", "vacation"), ErrExists)
		check(t, s.RenameSieveScript(ctx, a, "vacation", "away"))
		if act := must[*SieveScript](t)(s.ActiveSieveScript(ctx, a)); act.Name != "away" {
			t.Fatalf("renamed active %+v", act)
		}
		check(t, s.ActivateSieveScript(ctx, a, ""))
		check(t, s.DeleteSieveScript(ctx, a, "away"))
		wantErr(t, s.ActivateSieveScript(ctx, a, "away"), ErrNotFound)
		sc := must[*SieveScript](t)(s.SieveScript(ctx, a, "main"))
		if sc.Content != `fileinto "Junk";` {
			t.Fatalf("main %+v", sc)
		}
	})
}

func TestUIDLs(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader("a\r\n"), AppendOptions{UIDL: "dovecot-00001"}))
		must[AppendResult](t)(s.Append(ctx, a, inbox.ID, strings.NewReader("b\n"), AppendOptions{}))
		u := must[[]UIDL](t)(s.UIDLs(ctx, a))
		if len(u) != 2 || u[0].UIDL != "dovecot-00001" || u[1].UIDL != fmt.Sprintf("%08x%08x", inbox.UIDValidity, 2) || u[1].Size != 2 {
			t.Fatalf("uidls %+v", u)
		}
		// A moved message keeps its UIDL when it comes back; a copy does not.
		arch := mustMailbox(t, s, a, "Archive")
		must[CopyResult](t)(s.Move(ctx, a, inbox.ID, UIDSetOf(1), arch.ID))
		must[CopyResult](t)(s.Move(ctx, a, arch.ID, nil, inbox.ID))
		must[CopyResult](t)(s.Copy(ctx, a, inbox.ID, UIDSetOf(3), inbox.ID))
		u = must[[]UIDL](t)(s.UIDLs(ctx, a))
		if len(u) != 3 || u[1].UIDL != "dovecot-00001" || u[2].UIDL == "dovecot-00001" {
			t.Fatalf("uidls after moves %+v", u)
		}
	})
}

func TestMalformedMessagesStored(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		inbox := mustMailbox(t, s, a, "INBOX")
		for _, raw := range []string{
			"",
			"no header separator at all",
			"Subject: \xff\xfe 8-bit header\r\n\r\nbody\r\n",
			"Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\nno boundary here\r\n",
			"Subject: nul\r\n\r\nbody with \x00 NUL\r\n",
			"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\n",
			strings.Repeat("X-Long: "+strings.Repeat("y", 1000)+"\r\n", 100) + "\r\nbody",
		} {
			r, err := s.Append(ctx, a, inbox.ID, strings.NewReader(raw), AppendOptions{})
			if err != nil {
				t.Fatalf("append %q: %v", raw[:min(len(raw), 30)], err)
			}
			c := must[*Content](t)(s.Open(ctx, a, inbox.ID, r.UID))
			buf := make([]byte, c.Size())
			n, _ := c.ReadAt(buf, 0)
			c.Close()
			if string(buf[:n]) != raw {
				t.Fatalf("stored bytes differ for %q", raw[:min(len(raw), 30)])
			}
		}
		msgs := must[[]Message](t)(s.Messages(ctx, a, inbox.ID, nil, WantParsed))
		for _, m := range msgs {
			if m.Parsed == nil {
				t.Fatalf("uid %d has no parsed form", m.UID)
			}
		}
	})
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := must[*Store](t)(Open(ctx, Options{DataDir: dir}))
	check(t, s.AddDomain(ctx, "example.com"))
	tt := must[*tenant](t)(s.router.acquire(ctx, "example.com"))
	check(t, tt.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`INSERT INTO schema_migrations (version, applied) VALUES (999, 0)`)
		return err
	}))
	s.router.release(tt)
	s.Close()
	s = must[*Store](t)(Open(ctx, Options{DataDir: dir}))
	defer s.Close()
	_, err := s.Account(ctx, "bob@example.com")
	wantErr(t, err, ErrTooNew)
	if !strings.Contains(err.Error(), "999") {
		t.Fatalf("error does not say the version: %v", err)
	}
}

func TestSieveScriptMax(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := newAccount(t, s, "bob@example.com")
		check(t, s.PutSieveScriptMax(ctx, a, "one", `keep;`, 2))
		check(t, s.PutSieveScriptMax(ctx, a, "two", `keep;`, 2))
		wantErr(t, s.PutSieveScriptMax(ctx, a, "three", `keep;`, 2), ErrOverQuota)
		check(t, s.PutSieveScriptMax(ctx, a, "two", `discard;`, 2)) // replacing is not a new script
		check(t, s.PutSieveScriptMax(ctx, a, "two", `discard;`, 1)) // even past a lowered limit
		check(t, s.PutSieveScriptMax(ctx, a, "three", `keep;`, 0))  // 0: no limit
		if n := len(must[[]SieveScript](t)(s.SieveScripts(ctx, a))); n != 3 {
			t.Fatalf("%d scripts, want 3", n)
		}
		// Another account's scripts do not count.
		b := newAccount(t, s, "carol@example.com")
		check(t, s.PutSieveScriptMax(ctx, b, "one", `keep;`, 1))
	})
}
