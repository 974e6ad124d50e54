package main

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// TestServePOP3 runs the whole server: mail delivered over LMTP is fetched
// over POP3 with the sizes LIST promised, and a message deleted over POP3
// disappears from an IMAP session in IDLE at QUIT time, not before.
func TestServePOP3(t *testing.T) {
	dir := lmtpSetup(t, "bob@example.com")
	addrs, _ := serveWithConfig(t, dir, `
[imap]
listen = "127.0.0.1:0"
[pop3]
listen = "127.0.0.1:0"
[managesieve]
listen = ""
[lmtp]
listen = "127.0.0.1:0"
`)
	if len(addrs["imap"]) == 0 || len(addrs["pop3"]) == 0 || len(addrs["lmtp"]) == 0 {
		t.Skipf("serve lacks an IMAP, POP3 or LMTP listener in this build: %v", addrs)
	}
	for i := 1; i <= 3; i++ {
		msg := fmt.Sprintf("From: alice@example.org\r\nTo: bob@example.com\r\nSubject: pop %d\r\n\r\nbody %d\r\n..dotted\r\n", i, i)
		if r := lmtpSend(t, "tcp", addrs["lmtp"][0], []string{"bob@example.com"}, msg); len(r) != 1 || !strings.HasPrefix(r[0], "250") {
			t.Fatalf("LMTP: %q", r)
		}
	}

	expunged := make(chan uint32, 10)
	imc := bobInbox(t, addrs["imap"][0], &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) { expunged <- seq },
	}})
	idle, err := imc.Idle()
	if err != nil {
		t.Fatal(err)
	}

	nc, err := net.Dial("tcp", addrs["pop3"][0])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(nc)
	line := func() string {
		t.Helper()
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("POP3 read: %v", err)
		}
		return strings.TrimSuffix(l, "\r\n")
	}
	cmd := func(c string) string {
		t.Helper()
		fmt.Fprintf(nc, "%s\r\n", c)
		l := line()
		if !strings.HasPrefix(l, "+OK") {
			t.Fatalf("POP3 %s: %q", c, l)
		}
		return l
	}
	line() // greeting
	cmd("USER bob@example.com")
	cmd("PASS pw")
	if s := cmd("STAT"); !strings.HasPrefix(s, "+OK 3 ") {
		t.Fatalf("STAT %q", s)
	}
	size, _ := strconv.Atoi(strings.Fields(cmd("LIST 2"))[2])
	cmd("RETR 2")
	got := 0
	for l := line(); l != "."; l = line() {
		got += len(strings.TrimPrefix(l, ".")) + 2
	}
	if got != size {
		t.Fatalf("RETR 2 sent %d octets, LIST said %d", got, size)
	}
	cmd("DELE 2")
	cmd("NOOP")
	select {
	case seq := <-expunged:
		t.Fatalf("IMAP saw EXPUNGE %d before the POP3 QUIT", seq)
	case <-time.After(500 * time.Millisecond):
	}
	cmd("QUIT")
	select {
	case seq := <-expunged:
		if seq != 2 {
			t.Fatalf("EXPUNGE %d, want 2", seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the IMAP session in IDLE saw no EXPUNGE after the POP3 QUIT")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}
