package imap

import (
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// dialClient connects go-imap v2's client and logs in as bob.
func (e *testEnv) dialClient(opts *imapclient.Options) *imapclient.Client {
	e.t.Helper()
	c, err := imapclient.DialInsecure(e.addr, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	if err := c.Login("bob@example.com", "secret").Wait(); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestClientMailboxes(t *testing.T) {
	e := newTestEnv(t)
	c := e.dialClient(nil)
	if err := c.Create("Projects/Letterbox", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Archive2", &goimap.CreateOptions{SpecialUse: []goimap.MailboxAttr{goimap.MailboxAttrArchive}}).Wait(); err != nil {
		t.Fatal(err)
	}
	list, err := c.List("", "*", &goimap.ListOptions{ReturnStatus: &goimap.StatusOptions{NumMessages: true}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*goimap.ListData{}
	for _, l := range list {
		got[l.Mailbox] = l
	}
	if got["Projects"] == nil || got["Projects/Letterbox"] == nil || got["INBOX"] == nil || got["Projects/Letterbox"].Delim != '/' {
		t.Fatalf("list %v", got)
	}
	if got["INBOX"].Status == nil || got["INBOX"].Status.NumMessages == nil {
		t.Fatalf("LIST-STATUS missing: %+v", got["INBOX"])
	}
	if err := c.Rename("Projects", "Work", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status("Work/Letterbox", &goimap.StatusOptions{NumMessages: true, UIDNext: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("Work").Wait(); err == nil {
		t.Fatal("deleting a mailbox with children succeeded")
	}
	if err := c.Delete("Work/Letterbox").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe("Work").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("Nope", nil).Wait(); err == nil {
		t.Fatal("select of a missing mailbox succeeded")
	}
	ns, err := c.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' {
		t.Fatalf("namespace %+v %v", ns, err)
	}
}

func TestClientMessages(t *testing.T) {
	e := newTestEnv(t)
	c := e.dialClient(nil)
	msg := "From: a@example.org\r\nSubject: hello\r\n\r\nbody text\r\n"
	ac := c.Append("INBOX", int64(len(msg)), &goimap.AppendOptions{Flags: []goimap.Flag{goimap.FlagDraft}, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	ac.Write([]byte(msg))
	ac.Close()
	ad, err := ac.Wait()
	if err != nil || ad.UID != 1 {
		t.Fatalf("append %+v %v", ad, err)
	}
	for i := 0; i < 4; i++ {
		e.appendMsg("INBOX", strings.Replace(msg, "hello", "msg"+string(rune('a'+i)), 1))
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 5 || sel.UIDNext != 6 {
		t.Fatalf("select %+v %v", sel, err)
	}
	res, err := c.UIDSearch(&goimap.SearchCriteria{Header: []goimap.SearchCriteriaHeaderField{{Key: "Subject", Value: "msgb"}}}, nil).Wait()
	if err != nil || len(res.AllUIDs()) != 1 || res.AllUIDs()[0] != 3 {
		t.Fatalf("search %+v %v", res, err)
	}
	if _, err := c.Store(goimap.SeqSetNum(2, 3), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Flags: []goimap.Flag{goimap.FlagDeleted}, Silent: true}, nil).Collect(); err != nil {
		t.Fatal(err)
	}
	cd, err := c.Copy(goimap.SeqSetNum(1), "Archive").Wait()
	if err != nil || cd.DestUIDs.String() != "1" {
		t.Fatalf("copy %+v %v", cd, err)
	}
	md, err := c.Move(goimap.SeqSetNum(4), "Trash").Wait()
	if err != nil || md.DestUIDs.String() != "1" {
		t.Fatalf("move %+v %v", md, err)
	}
	exp, err := c.Expunge().Collect()
	if err != nil || len(exp) != 2 {
		t.Fatalf("expunge %v %v", exp, err)
	}
	res, err = c.Search(&goimap.SearchCriteria{}, nil).Wait()
	if err != nil || len(res.AllSeqNums()) != 2 {
		t.Fatalf("after expunge %+v %v", res, err)
	}
	st, err := c.Status("Archive", &goimap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || *st.NumMessages != 1 {
		t.Fatalf("status %+v %v", st, err)
	}
}

// Two sessions: one in IDLE sees what the other does, within a second.
func TestIdleSeesOtherSession(t *testing.T) {
	e := newTestEnv(t)
	type event struct {
		kind string
		n    uint32
	}
	events := make(chan event, 100)
	idler := e.dialClient(&imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) { events <- event{"expunge", seq} },
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				events <- event{"exists", *d.NumMessages}
			}
		},
		Fetch: func(m *imapclient.FetchMessageData) { events <- event{"fetch", m.SeqNum} },
	}})
	e.appendMsg("INBOX", "Subject: one\r\n\r\nx\r\n")
	if _, err := idler.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := idler.Idle()
	if err != nil {
		t.Fatal(err)
	}
	wait := func(kind string, n uint32) {
		t.Helper()
		deadline := time.After(time.Second)
		for {
			select {
			case ev := <-events:
				if ev.kind == kind && ev.n == n {
					return
				}
			case <-deadline:
				t.Fatalf("no %s %d within a second", kind, n)
			}
		}
	}
	other := e.dialClient(nil)
	msg := "Subject: two\r\n\r\ny\r\n"
	ac := other.Append("INBOX", int64(len(msg)), nil)
	ac.Write([]byte(msg))
	ac.Close()
	if _, err := ac.Wait(); err != nil {
		t.Fatal(err)
	}
	wait("exists", 2)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(goimap.SeqSetNum(1), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Flags: []goimap.Flag{goimap.FlagDeleted}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	wait("fetch", 1)
	if _, err := other.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	wait("expunge", 1)
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	// Delivery through storage (as LMTP does) wakes it too.
	idle, err = idler.Idle()
	if err != nil {
		t.Fatal(err)
	}
	e.appendMsg("INBOX", "Subject: three\r\n\r\nz\r\n")
	wait("exists", 2)
	idle.Close()
	idle.Wait()
}
