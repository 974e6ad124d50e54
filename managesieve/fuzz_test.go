package managesieve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"letterbox/internal/fuzzseed"
)

// Seeds for every fuzzer are the session scripts in testdata/managesieve.
func fuzzSeeds(f *testing.F) [][]byte { return fuzzseed.Load(f, "../testdata/managesieve") }

// FuzzParse reads commands from any input until it runs out. What parses
// stays within the budget and parses again the same when written back
// with every string as a literal; what does not is one of the parser's
// errors.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint16(200))
	}
	f.Fuzz(func(t *testing.T, in []byte, budget uint16) {
		p := parser{br: bufio.NewReaderSize(bytes.NewReader(in), 16), maxLine: 64, maxSkip: 100}
		for range 1000 {
			args, err := p.readArgs(int(budget))
			var se *syntaxError
			var big *tooBigError
			switch {
			case err == nil:
			case errors.As(err, &se), errors.As(err, &big):
				continue
			case errors.Is(err, errTooLong), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return
			default:
				t.Fatalf("error of type %T: %v", err, err)
			}
			if len(args) == 0 {
				t.Fatal("no error and no arguments")
			}
			size := 0
			var back strings.Builder
			for i, a := range args {
				size += len(a.s)
				if i > 0 {
					back.WriteByte(' ')
				}
				if a.atom {
					if a.s == "" {
						t.Fatal("empty atom")
					}
					back.WriteString(a.s)
				} else {
					back.WriteString("{" + strconv.Itoa(len(a.s)) + "+}\r\n" + a.s)
				}
			}
			if size > int(budget) {
				t.Fatalf("%d octets of arguments within a budget of %d", size, budget)
			}
			back.WriteString("\r\n")
			q := parser{br: bufio.NewReader(strings.NewReader(back.String())), maxLine: 1 << 20}
			again, err := q.readArgs(1 << 30)
			if err != nil {
				t.Fatalf("%q does not parse again: %v", back.String(), err)
			}
			if len(again) != len(args) {
				t.Fatalf("%q: %d arguments, then %d", back.String(), len(args), len(again))
			}
			for i := range args {
				if again[i] != args[i] {
					t.Fatalf("argument %d: %+v, then %+v", i, args[i], again[i])
				}
			}
		}
	})
}

// panicHandler records whether a session logged a recovered panic.
type panicHandler struct {
	mu     sync.Mutex
	panics []string
}

func (h *panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *panicHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		h.mu.Lock()
		h.panics = append(h.panics, r.Message)
		h.mu.Unlock()
	}
	return nil
}
func (h *panicHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *panicHandler) WithGroup(string) slog.Handler      { return h }

// FuzzSession runs a whole session, storage included, on any input: it
// must end without a panic, and every reply line must end with CRLF.
func FuzzSession(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	e := newTestEnv(f, func(s *Server) {
		s.MaxScripts, s.MaxScriptSize, s.MaxLine = 3, 200, 256
		s.IdleTimeout = 5 * time.Second
	})
	h := &panicHandler{}
	e.srv.Log = slog.New(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer ln.Close()
	f.Fuzz(func(t *testing.T, in []byte) {
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c := newConn(e.srv, server)
		done := make(chan struct{})
		go func() { defer close(done); c.Serve() }()
		client.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			client.Write(in)
			client.(*net.TCPConn).CloseWrite() // the session sees EOF after the last command
		}()
		out, _ := io.ReadAll(client)
		<-done
		if len(h.panics) > 0 {
			t.Fatalf("session panicked on %q", in)
		}
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
			t.Fatalf("output does not end with CRLF: %q", out)
		}
		if os.Getenv("MANAGESIEVE_FUZZ_TRACE") != "" {
			t.Logf("%s", out)
		}
	})
}
