package netserve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// echoSession answers each line and ends on Shutdown (when obedient) or
// only when closed.
type echoSession struct {
	nc       net.Conn
	obedient bool
	stop     chan struct{}
}

func (s *echoSession) Serve() {
	defer s.nc.Close()
	r := bufio.NewReader(s.nc)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		s.nc.Write([]byte("echo " + l))
	}
}

func (s *echoSession) Shutdown() {
	if s.obedient {
		s.nc.Close()
	}
}

func (s *echoSession) Close() { s.nc.Close() }

func start(t *testing.T, o Options) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln, o) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v after Shutdown", err)
		}
	})
	return s, ln.Addr().String()
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc, bufio.NewReader(nc)
}

func echo(t *testing.T, nc net.Conn, r *bufio.Reader) {
	t.Helper()
	nc.Write([]byte("hi\n"))
	if l, err := r.ReadString('\n'); err != nil || l != "echo hi\n" {
		t.Fatalf("echo: %q %v", l, err)
	}
}

func TestMaxConnsPerIP(t *testing.T) {
	_, addr := start(t, Options{
		MaxConnsPerIP: 1,
		Refuse:        "BUSY",
		NewSession:    func(nc net.Conn) Session { return &echoSession{nc: nc, obedient: true} },
	})
	a, ar := dial(t, addr)
	echo(t, a, ar)
	_, br := dial(t, addr)
	if l, _ := br.ReadString('\n'); l != "BUSY\r\n" {
		t.Fatalf("second connection got %q", l)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("second connection not closed: %v", err)
	}
	a.Close()
	// The slot comes back once the first session has ended.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, cr := dial(t, addr)
		c.Write([]byte("hi\n"))
		if l, _ := cr.ReadString('\n'); l == "echo hi\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slot of a closed session was not released")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestShutdown(t *testing.T) {
	sessions := make(chan *echoSession, 2)
	s, addr := start(t, Options{NewSession: func(nc net.Conn) Session {
		e := &echoSession{nc: nc, obedient: true}
		sessions <- e
		return e
	}})
	nc, r := dial(t, addr)
	echo(t, nc, r)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("session not ended: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln, Options{}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}

// A session that ignores Shutdown is closed when the context ends.
func TestShutdownForce(t *testing.T) {
	s, addr := start(t, Options{NewSession: func(nc net.Conn) Session { return &echoSession{nc: nc} }})
	nc, r := dial(t, addr)
	echo(t, nc, r)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("session not closed: %v", err)
	}
}

func TestHostOf(t *testing.T) {
	for _, c := range []struct {
		a    net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4190}, "192.0.2.1"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 4190}, "2001:db8::1"},
		{&net.UnixAddr{Name: "/run/sock", Net: "unix"}, "/run/sock"},
		{nil, ""},
	} {
		if got := HostOf(c.a); got != c.want {
			t.Errorf("HostOf(%v) = %q, want %q", c.a, got, c.want)
		}
	}
}
