package lmtp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"letterbox/storage"
)

// crashChildEnv, when set to a data directory, makes the test binary an
// LMTP server on that storage (see TestMain), for TestCrash to kill.
const crashChildEnv = "LETTERBOX_LMTP_CRASH_CHILD"

// crashFileMin is the configuration's default: the large messages of the
// test (one in seven) are kept in files, the others in the database.
const crashFileMin = 256 << 10

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild serves LMTP on a loopback port until it is killed, after
// printing the address on standard output.
func crashChild(dir string) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	s, err := storage.Open(context.Background(), storage.Options{DataDir: dir, Logger: log, BlobFileMinSize: crashFileMin})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ADDR %s\n", l.Addr())
	srv := NewServer(s, Options{Hostname: "crash.test", Logger: log})
	srv.Serve(l)
}

// TestCrash runs deliveries over several connections and kills the server
// with SIGKILL at random moments. After each restart, and at the end,
// every recipient that got a 250 has the message, byte for byte; no
// message is there twice; counters and reference counts are right; no
// spool file is left.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a server; skipped with -short")
	}
	dir := t.TempDir()
	ctx := context.Background()
	users := []string{"u0@example.com", "u1@example.com", "u2@example.com"}
	s, err := storage.Open(ctx, storage.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BlobFileMinSize: crashFileMin})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := s.CreateAccount(ctx, u, "x", 0); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	var mu sync.Mutex
	acked := map[string]map[string]string{} // user -> Message-ID -> message
	for _, u := range users {
		acked[u] = map[string]string{}
	}
	sent := 0
	const rounds, conns = 5, 4
	for round := range rounds {
		cmd, addr := startCrashChild(t, dir)
		var wg sync.WaitGroup
		for cn := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				r := bufio.NewReader(c)
				if !crashReply(r, "220") || !crashCmd(c, r, "LHLO crash.client", "250") {
					return
				}
				for seq := 0; ; seq++ {
					id := fmt.Sprintf("%d.%d.%d@crash.test", round, cn, seq)
					rcpts := []string{users[seq%len(users)], users[(seq+1+cn)%len(users)]}
					if rcpts[0] == rcpts[1] {
						rcpts = rcpts[:1]
					}
					body := strings.Repeat(fmt.Sprintf("%s line\r\n", id), 50)
					if seq%7 == 3 {
						body = strings.Repeat(body, 800) // past the in-memory spool
					}
					msg := fmt.Sprintf("Message-ID: <%s>\r\nSubject: crash %s\r\n\r\n%s", id, id, body)
					mu.Lock()
					sent++
					mu.Unlock()
					replies, ok := crashSend(c, r, rcpts, msg)
					mu.Lock()
					for i, rep := range replies {
						if strings.HasPrefix(rep, "250 ") {
							acked[rcpts[i]][id] = msg
						}
					}
					mu.Unlock()
					if !ok {
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		wg.Wait()
		checkCrashStore(t, dir, users, acked, &mu)
	}
	total := 0
	for _, m := range acked {
		total += len(m)
	}
	t.Logf("%d transactions sent, %d recipient deliveries acknowledged over %d kills", sent, total, rounds)
	if total == 0 {
		t.Fatal("no delivery was acknowledged: the test proved nothing")
	}
}

func startCrashChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child server: %q, %v", line, err)
	}
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
}

// crashSend runs one pipelined transaction and returns the reply to each
// recipient after DATA ("" when none came); ok is false once the
// connection failed.
func crashSend(c net.Conn, r *bufio.Reader, rcpts []string, msg string) ([]string, bool) {
	var b strings.Builder
	b.WriteString("MAIL FROM:<sender@crash.test>\r\n")
	for _, rc := range rcpts {
		fmt.Fprintf(&b, "RCPT TO:<%s>\r\n", rc)
	}
	b.WriteString("DATA\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, false
	}
	for range len(rcpts) + 1 {
		if !crashReply(r, "2") {
			return nil, false
		}
	}
	if !crashReply(r, "354") {
		return nil, false
	}
	if _, err := io.WriteString(c, dotStuff(msg)+".\r\n"); err != nil {
		return nil, false
	}
	replies := make([]string, len(rcpts))
	for i := range replies {
		line, err := r.ReadString('\n')
		if err != nil {
			return replies, false
		}
		replies[i] = line
	}
	return replies, true
}

func crashCmd(c net.Conn, r *bufio.Reader, line, code string) bool {
	if _, err := io.WriteString(c, line+"\r\n"); err != nil {
		return false
	}
	return crashReply(r, code)
}

// crashReply reads a (multi-line) reply and reports whether it starts
// with code.
func crashReply(r *bufio.Reader, code string) bool {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		if len(line) < 4 || line[3] != '-' {
			return strings.HasPrefix(line, code)
		}
	}
}

var messageID = regexp.MustCompile(`(?m)^Message-ID: <([^>]+)>\r$`)

// checkCrashStore opens the storage the killed server left and checks it.
func checkCrashStore(t *testing.T, dir string, users []string, acked map[string]map[string]string, mu *sync.Mutex) {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, storage.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BlobFileMinSize: crashFileMin})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, u := range users {
		a, err := s.Account(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		inbox, err := s.Mailbox(ctx, a, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := s.Messages(ctx, a, inbox.ID, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string][]byte{}
		for _, m := range msgs {
			c, err := s.Open(ctx, a, inbox.ID, m.UID)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(c.Reader())
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			id := messageID.FindSubmatch(b)
			if id == nil {
				t.Fatalf("%s UID %d has no Message-ID", u, m.UID)
			}
			if _, dup := stored[string(id[1])]; dup {
				t.Errorf("%s: %s stored twice", u, id[1])
			}
			stored[string(id[1])] = b
		}
		for id, want := range acked[u] {
			got, ok := stored[id]
			switch {
			case !ok:
				t.Errorf("%s: %s got 250 but is not stored", u, id)
			case !bytes.HasSuffix(got, []byte(want)) || !traceRE.Match(got) || len(traceRE.Find(got))+len(want) != len(got):
				t.Errorf("%s: %s is stored, but not as trace headers plus the message", u, id)
			}
		}
	}
	rep, err := s.Fsck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mailboxes+rep.Accounts+rep.Blobs != 0 {
		t.Errorf("after SIGKILL, fsck fixed: %+v", rep)
	}
	if left, _ := os.ReadDir(dir + "/tmp"); len(left) > 0 {
		t.Errorf("spool files left after SIGKILL: %d", len(left))
	}
	files := 0
	filepath.WalkDir(filepath.Join(dir, "domains", "example.com", "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return nil
	})
	if files == 0 {
		t.Error("no message is kept in a file; the large ones should be")
	}
}
