package pop3

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"letterbox/auth"
	"letterbox/internal/fuzzseed"
	"letterbox/storage"
)

// Seeds for every fuzzer are the session scripts in testdata/pop3.
func fuzzSeeds(f *testing.F) [][]byte { return fuzzseed.Load(f, "../testdata/pop3") }

// FuzzParseLine: any line parses or is refused, never panics, and what
// parses is a short printable keyword and the exact rest of the line.
func FuzzParseLine(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		for _, l := range bytes.Split(s, []byte("\n")) {
			f.Add(bytes.TrimSuffix(l, []byte("\r")))
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		kw, args, err := parseLine(line)
		if err != nil {
			if _, ok := err.(*replyError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if len(kw) == 0 || len(kw) > maxKeyword || kw != strings.ToUpper(kw) || strings.ContainsAny(kw, " \r\n\x00") {
			t.Fatalf("keyword %q from %q", kw, line)
		}
		if !strings.EqualFold(string(line), kw) && !strings.EqualFold(string(line), kw+" "+args) {
			t.Fatalf("%q parsed as %q + %q", line, kw, args)
		}
		for _, a := range fields(args) {
			if n, ok := parseNumber(a); ok && strconv.FormatUint(n, 10) != strings.TrimLeft(a, "0") && n != 0 {
				t.Fatalf("number %q read as %d", a, n)
			}
		}
	})
}

// FuzzStuff: dot-stuffed content, read back the way clients read a
// multi-line response, is the content (plus a CRLF if it lacked a final
// line ending), and no line of it can end the response early.
func FuzzStuff(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint8(7))
	}
	f.Add([]byte(".\r\n..\r\n.\r\n"), uint8(1))
	f.Add([]byte("a\r\n."), uint8(2))
	f.Fuzz(func(t *testing.T, content []byte, split uint8) {
		var out bytes.Buffer
		w := bufio.NewWriterSize(&out, 16)
		st := newStuffer(w)
		// Write in pieces, so that dots fall on write boundaries.
		step := int(split%32) + 1
		for i := 0; i < len(content); i += step {
			st.Write(content[i:min(i+step, len(content))])
		}
		if err := st.end(); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		wire := out.Bytes()
		if !bytes.HasSuffix(wire, []byte(".\r\n")) {
			t.Fatalf("no terminator: %q", wire)
		}
		body := wire[:len(wire)-3]
		var got []byte
		for _, l := range bytes.SplitAfter(body, []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			if l[0] == '.' {
				if len(l) < 2 || l[1] != '.' {
					t.Fatalf("unstuffed dot line %q in %q", l, wire)
				}
				l = l[1:]
			}
			got = append(got, l...)
		}
		want := content
		if len(content) > 0 && content[len(content)-1] != '\n' {
			want = append(append([]byte(nil), content...), "\r\n"...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round trip of %q gave %q", content, got)
		}
	})
}

var fuzzEnv struct {
	once  sync.Once
	srv   *Server
	acct  *storage.Account
	inbox int64
	mu    sync.Mutex
	panic bytes.Buffer
}

type panicRecorder struct{}

func (panicRecorder) Write(p []byte) (int, error) {
	fuzzEnv.mu.Lock()
	defer fuzzEnv.mu.Unlock()
	if bytes.Contains(p, []byte("panic")) {
		fuzzEnv.panic.Write(p)
	}
	return len(p), nil
}

// fuzzServer is one server for every fuzz input, with bob's INBOX kept at
// three messages or more (a fuzzed QUIT may expunge some).
func fuzzServer(t *testing.T) *Server {
	fuzzEnv.once.Do(func() {
		dir, err := os.MkdirTemp("", "pop3fuzz")
		if err != nil {
			panic(err)
		}
		ctx := context.Background()
		st, err := storage.Open(ctx, storage.Options{DataDir: dir})
		if err != nil {
			panic(err)
		}
		st.AddDomain(ctx, "example.com")
		fuzzEnv.acct, err = st.CreateAccount(ctx, "bob@example.com", "{PLAIN}secret", 0)
		if err != nil {
			panic(err)
		}
		inbox, err := st.Mailbox(ctx, fuzzEnv.acct, "INBOX")
		if err != nil {
			panic(err)
		}
		fuzzEnv.inbox = inbox.ID
		fuzzEnv.srv = &Server{Store: st, Auth: &auth.Authenticator{Store: st},
			CleartextAllowed: func(net.Addr) bool { return true }, Hostname: "fuzz.example",
			Log: slog.New(slog.NewTextHandler(panicRecorder{}, &slog.HandlerOptions{Level: slog.LevelError}))}
	})
	ctx := context.Background()
	st := fuzzEnv.srv.Store
	for i := 0; ; i++ {
		mb, err := st.MailboxByID(ctx, fuzzEnv.acct, fuzzEnv.inbox)
		if err != nil {
			t.Fatal(err)
		}
		if mb.Messages >= 3 {
			break
		}
		msg := fmt.Sprintf("Subject: fuzz %d\r\n\r\nbody\r\n.dot\r\n%s\r\n", i, strings.Repeat("x", i*100))
		if _, err := st.Append(ctx, fuzzEnv.acct, fuzzEnv.inbox, strings.NewReader(msg), storage.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return fuzzEnv.srv
}

// FuzzSession feeds arbitrary client bytes to a whole session: it must not
// panic, hang, or stop reading before the input ends or the session does.
func FuzzSession(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := fuzzServer(t)
		client, server := net.Pipe()
		c := newConn(srv, server, false)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Serve()
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write(data)
		client.Write([]byte("\r\nQUIT\r\n"))
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("session hung on %q", data)
		}
		fuzzEnv.mu.Lock()
		defer fuzzEnv.mu.Unlock()
		if fuzzEnv.panic.Len() > 0 {
			t.Fatalf("panic: %s (input %q)", strings.TrimSpace(fuzzEnv.panic.String()), data)
		}
	})
}
