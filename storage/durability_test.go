package storage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The durability test runs a child process (this test binary again, with
// LETTERBOX_DURABILITY_CHILD set) that appends messages as fast as it can
// and prints "ok <uid> <sha256>" once each Append has returned. The parent
// kills it with SIGKILL at a random moment, reopens the store and checks
// that every message the child was told is stored is there, intact.

const (
	durEnvDir   = "LETTERBOX_DURABILITY_CHILD"
	durEnvBlobs = "LETTERBOX_DURABILITY_BLOBS"
	durEnvComp  = "LETTERBOX_DURABILITY_COMPRESSION"
	durEnvFiles = "LETTERBOX_DURABILITY_FILE_MIN"
	durEnvRound = "LETTERBOX_DURABILITY_ROUND"
	durLogin    = "dur@example.com"
	durWorkers  = 6
)

// durMessage builds a distinct message: a counter in the subject and body,
// a few KB, and every tenth one larger than a blob chunk (256 KiB). Its
// lines end in CRLF, so the stored bytes are exactly these.
func durMessage(round, worker, i int) []byte {
	var b bytes.Buffer
	id := fmt.Sprintf("r%d-w%d-n%d", round, worker, i)
	fmt.Fprintf(&b, "From: Writer <w%d@example.org>\r\nTo: %s\r\nSubject: durability %s\r\nMessage-ID: <%s@example.org>\r\n\r\n",
		worker, durLogin, id, id)
	size := 2000 + (i*7919)%6000
	if i%10 == 3 {
		size = 260<<10 + (i*104729)%(400<<10)
	}
	seed := sha256.Sum256([]byte(id))
	line := 0
	for b.Len() < size {
		seed = sha256.Sum256(seed[:])
		fmt.Fprintf(&b, "%s %06d %s\r\n", id, line, hex.EncodeToString(seed[:24]))
		line++
	}
	return b.Bytes()
}

// TestDurabilityChild is the child's side; it does nothing in a normal run.
func TestDurabilityChild(t *testing.T) {
	dir := os.Getenv(durEnvDir)
	if dir == "" {
		t.Skip("the child of TestDurabilityKill; runs only when started by it")
	}
	round, _ := strconv.Atoi(os.Getenv(durEnvRound))
	ctx := context.Background()
	fileMin, _ := strconv.ParseInt(os.Getenv(durEnvFiles), 10, 64)
	s, err := Open(ctx, Options{DataDir: dir, BlobBackend: os.Getenv(durEnvBlobs), Compression: os.Getenv(durEnvComp), BlobFileMinSize: fileMin})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	a, err := s.Account(ctx, durLogin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "account:", err)
		os.Exit(2)
	}
	mb, err := s.Mailbox(ctx, a, "INBOX")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailbox:", err)
		os.Exit(2)
	}
	var out sync.Mutex
	for w := range durWorkers {
		go func() {
			for i := 0; ; i++ {
				msg := durMessage(round, w, i)
				res, err := s.Append(ctx, a, mb.ID, bytes.NewReader(msg), AppendOptions{})
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(2)
				}
				sum := sha256.Sum256(msg)
				out.Lock()
				// One write per line: a line is in the pipe whole or not at all.
				fmt.Fprintf(os.Stdout, "ok %d %x\n", res.UID, sum)
				out.Unlock()
			}
		}()
	}
	// The parent kills us long before this; never outlive a lost parent.
	time.Sleep(60 * time.Second)
	fmt.Fprintln(os.Stderr, "child: not killed in time")
	os.Exit(3)
}

func TestDurabilityKill(t *testing.T) {
	for _, v := range []struct {
		name, blobs, comp string
		fileMin           int64
	}{
		{"sql-blobs", "sql", "none", 0},
		{"file-blobs-zstd", "file", "zstd", 0},
		{"sql-blobs-large-in-files", "sql", "none", 256 << 10}, // one message in ten
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{DataDir: dir, BlobBackend: v.blobs, Compression: v.comp, BlobFileMinSize: v.fileMin}
			s, err := Open(context.Background(), opts)
			check(t, err)
			newAccount(t, s, durLogin)
			check(t, s.Close())

			reported := map[UID]string{} // every UID the children were told is stored
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			for round := range 5 {
				before := len(reported)
				killAfter := time.Duration(100+rng.IntN(600)) * time.Millisecond
				lines := durRunChild(t, dir, v.blobs, v.comp, v.fileMin, round, killAfter)
				for _, l := range lines {
					if prev, dup := reported[l.uid]; dup {
						t.Errorf("round %d: UID %d reported twice (was %s…, now %s…)", round, l.uid, prev[:12], l.sum[:12])
					}
					reported[l.uid] = l.sum
				}
				t.Logf("round %d: killed after %v, %d appends reported", round, killAfter, len(reported)-before)
				durVerify(t, opts, reported)
				if t.Failed() {
					return
				}
			}
		})
	}
}

type durLine struct {
	uid UID
	sum string
}

// durRunChild starts the child, kills it killAfter its first reported
// append, and returns what it reported.
func durRunChild(t *testing.T, dir, blobs, comp string, fileMin int64, round int, killAfter time.Duration) []durLine {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityChild$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), durEnvDir+"="+dir, durEnvBlobs+"="+blobs, durEnvComp+"="+comp,
		durEnvFiles+"="+strconv.FormatInt(fileMin, 10), durEnvRound+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	check(t, err)
	check(t, cmd.Start())

	var lines []durLine
	first := make(chan struct{})
	eof := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "ok" || len(f[2]) != 64 {
				continue // the testing package's own output
			}
			uid, err := strconv.ParseUint(f[1], 10, 32)
			if err != nil {
				continue
			}
			lines = append(lines, durLine{UID(uid), f[2]})
			if !signalled {
				signalled = true
				close(first)
			}
		}
		eof <- sc.Err()
	}()

	select {
	case <-first:
	case err := <-eof:
		cmd.Wait()
		t.Fatalf("round %d: child ended before any append (%v): %s", round, err, stderr.String())
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("round %d: child reported nothing in 20s: %s", round, stderr.String())
	}
	time.Sleep(killAfter)
	check(t, cmd.Process.Kill()) // SIGKILL: no deferred function, no Close, no flush
	if err := <-eof; err != nil {
		t.Errorf("round %d: reading the child: %v", round, err)
	}
	err = cmd.Wait()
	if !strings.Contains(fmt.Sprint(err), "killed") {
		t.Fatalf("round %d: child ended with %v, not by our SIGKILL: %s", round, err, stderr.String())
	}
	return lines
}

// durVerify reopens the store after a crash and checks it.
func durVerify(t *testing.T, opts Options, reported map[UID]string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(opts.DataDir, "domains", "example.com", "letterbox.db")

	// The file as the crash left it (SQLite replays the WAL on open).
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	check(t, err)
	var res []string
	rows, err := db.Query(`PRAGMA integrity_check`)
	check(t, err)
	for rows.Next() {
		var l string
		check(t, rows.Scan(&l))
		res = append(res, l)
	}
	check(t, rows.Err())
	rows.Close()
	defer db.Close()
	if len(res) != 1 || res[0] != "ok" {
		t.Fatalf("integrity_check: %v", res)
	}
	if opts.BlobFileMinSize > 0 {
		// The variant is only worth its time if both kinds of blob are there.
		var inFile, inDB int
		check(t, db.QueryRow(`SELECT COUNT(*) FILTER (WHERE in_file), COUNT(*) FILTER (WHERE NOT in_file) FROM blobs`).Scan(&inFile, &inDB))
		if len(reported) > 20 && (inFile == 0 || inDB == 0) {
			t.Errorf("%d blobs in files and %d in the database; want some of each", inFile, inDB)
		}
	}

	s, err := Open(ctx, opts)
	check(t, err)
	defer s.Close()
	a := must[*Account](t)(s.Account(ctx, durLogin))
	mb := mustMailbox(t, s, a, "INBOX")
	msgs := must[[]Message](t)(s.Messages(ctx, a, mb.ID, nil, 0))
	byUID := map[UID]Message{}
	byBlob := map[string]UID{}
	var size int64
	for _, m := range msgs {
		byUID[m.UID] = m
		if other, dup := byBlob[string(m.Blob)]; dup {
			t.Errorf("UIDs %d and %d hold the same content: a write was stored twice", other, m.UID)
		}
		byBlob[string(m.Blob)] = m.UID
		size += m.Size
		if m.UID >= mb.UIDNext {
			t.Errorf("UID %d is not below UIDNEXT %d", m.UID, mb.UIDNext)
		}
	}
	for uid, sum := range reported {
		m, ok := byUID[uid]
		if !ok {
			t.Errorf("UID %d was reported stored and is gone", uid)
			continue
		}
		if hex.EncodeToString(m.Blob) != sum {
			t.Errorf("UID %d: blob %x, the child stored %s", uid, m.Blob, sum)
		}
	}
	// Every stored message (reported or not: the child may have died
	// between commit and print) must read back whole.
	for _, m := range msgs {
		c, err := s.Open(ctx, a, mb.ID, m.UID)
		if err != nil {
			t.Errorf("open UID %d: %v", m.UID, err)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, c.Reader())
		c.Close()
		if err != nil || n != m.Size || !bytes.Equal(h.Sum(nil), m.Blob) {
			t.Errorf("UID %d: read %d of %d bytes (%v), sha256 %x, want %x", m.UID, n, m.Size, err, h.Sum(nil), m.Blob)
		}
	}
	if mb.Messages != int64(len(msgs)) || mb.Size != size || mb.Unseen != int64(len(msgs)) {
		t.Errorf("counters %d messages %d unseen %d bytes; rows say %d messages, %d bytes", mb.Messages, mb.Unseen, mb.Size, len(msgs), size)
	}
	if q := must[Quota](t)(s.Quota(ctx, a)); q.UsedBytes != size {
		t.Errorf("quota says %d bytes used, rows %d", q.UsedBytes, size)
	}
	rep := must[FsckReport](t)(s.Fsck(ctx))
	if rep.Mailboxes != 0 || rep.Accounts != 0 || rep.Blobs != 0 {
		t.Errorf("fsck fixed %+v after a crash", rep)
	}
}
