package pop3

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand"
	"net"
	"strings"
	"testing"

	"letterbox/storage"
)

// benchMessage is a message of the size mix `letterbox bench pop3` uses in
// its Dovecot comparison (log-uniform from 1 KiB to 256 KiB).
func benchMessage(i int) string {
	rnd := rand.New(rand.NewSource(int64(i)))
	size := int(math.Exp(math.Log(1024) + rnd.Float64()*(math.Log(256*1024)-math.Log(1024))))
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender%d@example.org\r\nSubject: benchmark %d\r\nMessage-ID: <b%d@example.org>\r\n\r\n", i, i, i)
	for b.Len() < size {
		if rnd.Intn(20) == 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.Repeat("lorem ipsum ", 1+rnd.Intn(6)))
		b.WriteString("\r\n")
	}
	return b.String()
}

// BenchmarkRetrAll measures one session retrieving every message of a
// 1,000-message INBOX, as fetchmail does: one RETR at a time.
func BenchmarkRetrAll(b *testing.B) {
	e := newTestEnv(b)
	ctx := context.Background()
	var total int64
	for i := 1; i <= 1000; i++ {
		m := benchMessage(i)
		total += int64(len(m))
		if _, err := e.store.Append(ctx, e.acct, e.inbox.ID, strings.NewReader(m), storage.AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		nc, err := net.Dial("tcp", e.addr)
		if err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReaderSize(nc, 64<<10)
		w := bufio.NewWriter(nc)
		cmd := func(s string) string {
			w.WriteString(s + "\r\n")
			w.Flush()
			l, err := r.ReadString('\n')
			if err != nil || !strings.HasPrefix(l, "+OK") {
				b.Fatalf("%s: %q %v", s, l, err)
			}
			return l
		}
		r.ReadString('\n')
		cmd("USER bob@example.com")
		cmd("PASS secret")
		for i := 1; i <= 1000; i++ {
			cmd(fmt.Sprintf("RETR %d", i))
			for {
				l, err := r.ReadSlice('\n')
				if err != nil && err != bufio.ErrBufferFull {
					b.Fatal(err)
				}
				if len(l) == 3 && l[0] == '.' {
					break
				}
			}
		}
		cmd("QUIT")
		nc.Close()
	}
}
