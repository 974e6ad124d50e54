package lmtp

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestConnGroupsReplies: replies wait until the server is about to wait
// for the client, then leave in one write; Close sends what is left.
func TestConnGroupsReplies(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	c := &conn{Conn: server, s: &Server{perIP: map[string]int{}}}
	for _, r := range []string{"250 2.0.0 sender ok\r\n", "250 2.1.5 recipient ok\r\n", "354 go ahead\r\n"} {
		if n, err := c.Write([]byte(r)); n != len(r) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 1024)
	if n, err := client.Read(buf); err == nil {
		t.Fatalf("the client got %q before the server read", buf[:n])
	}

	read := make(chan string, 1)
	go func() {
		p := make([]byte, 64)
		n, err := c.Read(p)
		if err != nil {
			read <- "error: " + err.Error()
			return
		}
		read <- string(p[:n])
	}()
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := client.Read(buf) // net.Pipe: one read gets one write
	if want := "250 2.0.0 sender ok\r\n250 2.1.5 recipient ok\r\n354 go ahead\r\n"; err != nil || string(buf[:n]) != want {
		t.Fatalf("client read %q, %v; want the three replies at once", buf[:n], err)
	}
	client.Write([]byte("hello\r\n"))
	if got := <-read; got != "hello\r\n" {
		t.Fatalf("server read %q", got)
	}

	c.Write([]byte("221 2.0.0 bye\r\n"))
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	got, _ := io.ReadAll(client)
	<-done
	if string(got) != "221 2.0.0 bye\r\n" {
		t.Fatalf("after Close the client read %q", got)
	}
}
