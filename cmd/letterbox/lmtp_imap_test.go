package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestLMTPToIMAP: a message delivered over LMTP wakes an IMAP session in
// IDLE within a second, and FETCH BODY[] serves the trace headers plus
// the message as sent, spam headers and all, with CRLF line endings and
// an RFC822.SIZE equal to the bytes served.
func TestLMTPToIMAP(t *testing.T) {
	_, addrs := serveLMTPAndIMAP(t)
	exists := make(chan uint32, 10)
	c := bobInbox(t, addrs["imap"][0], &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	msg := "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n\tby mail.example.com (Postfix) with ESMTPS id 4Xyz\r\n\tfor <bob@example.com>; Tue,  2 Jan 2024 10:00:01 +0100 (CET)\r\n" +
		"X-Spam-Flag: NO\r\nX-Spam-Score: -0.1\r\nX-Spam-Status: No, score=-0.1 required=5.0\r\n\ttests=DKIM_VALID autolearn=ham\r\n" +
		"X-Rspamd-Queue-Id: 4Xyz\r\nX-Rspamd-Action: no action\r\n" +
		"Authentication-Results: mail.example.com;\r\n\tdkim=pass header.d=example.org;\r\n\tspf=pass smtp.mailfrom=alice@example.org\r\n" +
		"From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: over IMAP\r\nMessage-ID: <imap-e2e@example.org>\r\n\r\n" +
		"Body line.   \r\n..starts with a dot\r\n"
	stuffed := strings.ReplaceAll(msg, "\r\n.", "\r\n..")
	replies := lmtpSend(t, "tcp", addrs["lmtp"][0], []string{"bob@example.com"}, stuffed)
	acked := time.Now()
	if len(replies) != 1 || !strings.HasPrefix(replies[0], "250 2.0.0") {
		t.Fatalf("LMTP: %q", replies)
	}
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case <-time.After(time.Second - time.Since(acked)):
		t.Fatal("no EXISTS within a second of the 250")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	whole := &goimap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(goimap.SeqSetNum(1), &goimap.FetchOptions{RFC822Size: true, BodySection: []*goimap.FetchItemBodySection{whole}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("FETCH: %v, %d messages", err, len(msgs))
	}
	body := string(msgs[0].FindBodySection(whole))
	if int64(len(body)) != msgs[0].RFC822Size {
		t.Errorf("RFC822.SIZE %d, BODY[] has %d bytes", msgs[0].RFC822Size, len(body))
	}
	trace, rest, ok := strings.Cut(body, "\r\nReceived: from mx.example.org")
	if !ok || "Received: from mx.example.org"+rest != msg {
		t.Fatalf("BODY[] is not the trace headers plus the message:\n%q", body)
	}
	for _, want := range []string{"Return-Path: <alice@example.org>\r\n", "Delivered-To: bob@example.com\r\n", "Received: from test ([127.0.0.1])\r\n\tby "} {
		if !strings.Contains(trace+"\r\n", want) {
			t.Errorf("trace headers lack %q:\n%s", want, trace)
		}
	}
	if strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") {
		t.Error("BODY[] has a bare LF")
	}
}

// serveLMTPAndIMAP starts the server with the default configuration but
// for its listeners (IMAP and LMTP only) and bob@example.com, password pw.
func serveLMTPAndIMAP(t *testing.T) (dir string, addrs map[string][]string) {
	t.Helper()
	dir = lmtpSetup(t, "bob@example.com")
	addrs, _ = serveWithConfig(t, dir, `
[imap]
listen = "127.0.0.1:0"
[pop3]
listen = ""
[managesieve]
listen = ""
[lmtp]
listen = "127.0.0.1:0"
`)
	if len(addrs["imap"]) == 0 || len(addrs["lmtp"]) == 0 {
		t.Skipf("serve has no IMAP or LMTP listener in this build: %v", addrs)
	}
	return dir, addrs
}

// bobInbox logs in over IMAP at addr as bob@example.com (password pw) and
// selects INBOX; the connection closes when the test ends.
func bobInbox(t *testing.T, addr string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("bob@example.com", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLargeLMTPToIMAP: with the default storage.blob_file_min_size a
// message of 600 KB is a file beside the database, and IMAP serves it
// whole and in parts as it serves any other.
func TestLargeLMTPToIMAP(t *testing.T) {
	dir, addrs := serveLMTPAndIMAP(t)
	var b strings.Builder
	b.WriteString("From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: large\r\n\r\n")
	for i := 0; b.Len() < 600_000; i++ {
		fmt.Fprintf(&b, "%06d the attachment that makes this message large enough for a file\r\n", i)
	}
	msg := b.String()
	if replies := lmtpSend(t, "tcp", addrs["lmtp"][0], []string{"bob@example.com"}, msg); len(replies) != 1 || !strings.HasPrefix(replies[0], "250 2.0.0") {
		t.Fatalf("LMTP: %q", replies)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "domains", "example.com", "blobs", "*", "*"))
	if len(files) != 1 {
		t.Fatalf("blob files: %v, want one", files)
	}

	c := bobInbox(t, addrs["imap"][0], nil)
	whole := &goimap.FetchItemBodySection{Peek: true}
	part := &goimap.FetchItemBodySection{Specifier: goimap.PartSpecifierText, Peek: true, Partial: &goimap.SectionPartial{Offset: 300_000, Size: 100}}
	msgs, err := c.Fetch(goimap.SeqSetNum(1), &goimap.FetchOptions{RFC822Size: true, BodySection: []*goimap.FetchItemBodySection{whole, part}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("FETCH: %v, %d messages", err, len(msgs))
	}
	body := string(msgs[0].FindBodySection(whole))
	if int64(len(body)) != msgs[0].RFC822Size || !strings.HasSuffix(body, msg) {
		t.Fatalf("BODY[]: %d bytes, RFC822.SIZE %d; want the trace headers plus the %d bytes sent", len(body), msgs[0].RFC822Size, len(msg))
	}
	_, text, _ := strings.Cut(msg, "\r\n\r\n")
	if got := string(msgs[0].FindBodySection(part)); got != text[300_000:300_100] {
		t.Fatalf("BODY[TEXT]<300000.100> = %q, want %q", got, text[300_000:300_100])
	}
}
