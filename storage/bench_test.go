package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Benchmarks of the storage core. Run them with, for example:
//
//	LETTERBOX_TEST_PG=postgres://... go test -run='^$' -bench=. -count=5 ./storage/
//
// Each reports msgs/s. PostgreSQL sub-benchmarks skip without
// LETTERBOX_TEST_PG.

func benchStore(b *testing.B, backend string) *Store {
	b.Helper()
	return benchStoreWith(b, Options{Backend: backend})
}

// benchStoreWith opens a fresh store with opts in a temporary directory.
func benchStoreWith(b *testing.B, opts Options) *Store {
	b.Helper()
	opts.DataDir = b.TempDir()
	if opts.Backend == "postgres" {
		opts.PostgresURL = pgSchema(b)
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchBody10KB is the body of the append benchmark: 10 KiB of prose in
// lines, words drawn from a small vocabulary with common words more
// likely, so that it compresses about as well as the text of real mail
// (zstd: a third or so of its size) rather than as a repeated line would.
var benchBody10KB = func() string {
	words := strings.Fields(`the of and to a in is that for it as was with be by on not he this are or
		his from at which but have an they you were her she there been one all we their has would when
		if so no will more can said who about up out them some could into only time other than then
		now my its over also after did many before must through years where much your way well down
		should because each just those people how too little state good very make world still own see
		men work long get here between both life being under never day same another know while last
		might us great old year off come since against go came right used take three meeting budget
		report schedule project invoice attached review draft quarter please thanks regards team
		customer delivery server account password update release notes agenda minutes friday monday`)
	rng := rand.New(rand.NewPCG(10, 24))
	var sb, line strings.Builder
	capital := true
	for sb.Len() < 10<<10 {
		w := words[int(float64(len(words))*rng.Float64()*rng.Float64())]
		if capital {
			w = strings.ToUpper(w[:1]) + w[1:]
			capital = false
		}
		if line.Len()+len(w) > 72 {
			sb.WriteString(line.String() + "\r\n")
			line.Reset()
		} else if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(w)
		if rng.IntN(12) == 0 {
			line.WriteByte('.')
			capital = true
		}
	}
	return sb.String()[:10<<10-2] + "\r\n"
}()

func benchMessage10KB(n int64) string {
	return fmt.Sprintf("From: Sender <sender@example.org>\r\nTo: bench@example.com\r\nSubject: benchmark message %d\r\n"+
		"Message-ID: <bench-%d@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\n", n, n) + benchBody10KB
}

// BenchmarkAppend10KB appends distinct 10 KiB messages to one mailbox, from
// one goroutine or from 8 at once. With SQLite the 8 writers share each
// commit (and its fsync): group commit. sqlite-zstd stores the content
// compressed (storage.compression = "zstd"): fewer WAL pages per message.
// sqlite-slowdisk holds each commit 300 µs longer, as on a disk whose fsync
// takes about 0.5 ms (a virtual disk's cache answers in about 0.2): how much
// sharing fsyncs gives depends on what one costs.
func BenchmarkAppend10KB(b *testing.B) {
	for _, variant := range []struct {
		name, backend, compression string
		slowSync                   time.Duration
	}{
		{"sqlite", "sqlite", "", 0}, {"sqlite-zstd", "sqlite", "zstd", 0},
		{"sqlite-slowdisk", "sqlite", "", 300 * time.Microsecond}, {"postgres", "postgres", "", 0},
	} {
		b.Run(variant.name, func(b *testing.B) {
			if variant.slowSync > 0 {
				// syscall.Nanosleep: Go's timers wake a millisecond late here.
				ts := syscall.NsecToTimespec(variant.slowSync.Nanoseconds())
				afterCommit = func() { syscall.Nanosleep(&ts, nil) }
				defer func() { afterCommit = nil }()
			}
			for _, writers := range []int{1, 8} {
				name := "1writer"
				if writers > 1 {
					name = fmt.Sprintf("%dwriters", writers)
				}
				b.Run(name, func(b *testing.B) {
					s := benchStoreWith(b, Options{Backend: variant.backend, Compression: variant.compression})
					a := newAccount(b, s, "bench@example.com")
					mb := mustMailbox(b, s, a, "INBOX")
					ctx := context.Background()
					var next atomic.Int64
					var failed atomic.Value
					b.SetBytes(int64(len(benchMessage10KB(0))))
					b.ResetTimer()
					var wg sync.WaitGroup
					for range writers {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for {
								n := next.Add(1)
								if n > int64(b.N) {
									return
								}
								if _, err := s.Append(ctx, a, mb.ID, strings.NewReader(benchMessage10KB(n)), AppendOptions{}); err != nil {
									failed.Store(err)
									return
								}
							}
						}()
					}
					wg.Wait()
					b.StopTimer()
					if err, _ := failed.Load().(error); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				})
			}
		})
	}
}

const benchSeedCount = 10000

// benchSeedMessage is message i of the 10,000 of the read benchmarks: distinct,
// 1-4 KB, some multipart, one in a hundred with "needle" in its subject.
func benchSeedMessage(i int) string {
	subject := fmt.Sprintf("Quarterly report %d for project %c", i, 'A'+rune(i%26))
	if i%100 == 42 {
		subject = fmt.Sprintf("Re: the needle in the haystack, part %d", i)
	}
	hdr := fmt.Sprintf("From: Person %d <person%d@example.org>\r\nTo: bench@example.com\r\nCc: team%d@example.net\r\n"+
		"Subject: %s\r\nDate: Tue, %d Nov 2026 10:%02d:00 +0100\r\nMessage-ID: <seed-%d@example.org>\r\n"+
		"X-Spam-Score: %d.%d\r\n", i%50, i%50, i%7, subject, 1+i%28, i%60, i, i%10, i%7)
	text := strings.Repeat(fmt.Sprintf("Paragraph for message %d: figures, plans and minutes.\r\n", i), 15+i%45)
	if i%3 != 0 {
		return hdr + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
	}
	return hdr + "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b" + fmt.Sprint(i) + "\"\r\n\r\n" +
		"--b" + fmt.Sprint(i) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
		"--b" + fmt.Sprint(i) + "\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" + text + "</p>\r\n" +
		"--b" + fmt.Sprint(i) + "--\r\n"
}

// benchSeed10k fills a fresh store's INBOX with 10,000 distinct messages,
// appended from 32 goroutines so that writes share commits.
func benchSeed10k(b *testing.B, backend string) (*Store, *Account, *Mailbox) {
	b.Helper()
	s := benchStore(b, backend)
	a := newAccount(b, s, "reader@example.com")
	mb := mustMailbox(b, s, a, "INBOX")
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= benchSeedCount {
					return
				}
				var fl []string
				if i%4 == 0 {
					fl = []string{FlagSeen}
				}
				if i%10 == 0 {
					fl = append(fl, "$Label1")
				}
				if _, err := s.Append(ctx, a, mb.ID, strings.NewReader(benchSeedMessage(i)), AppendOptions{Flags: fl}); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return s, a, mb
}

// BenchmarkMessages10k reads the cached metadata of 10,000 messages, as a
// FETCH 1:* (ENVELOPE BODYSTRUCTURE FLAGS) or FETCH 1:* (FLAGS) would.
func BenchmarkMessages10k(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			s, a, mb := benchSeed10k(b, backend)
			ctx := context.Background()
			for _, v := range []struct {
				name string
				want Want
			}{{"parsed", WantParsed}, {"narrow", 0}} {
				b.Run(v.name, func(b *testing.B) {
					for range b.N {
						msgs, err := s.Messages(ctx, a, mb.ID, nil, v.want)
						if err != nil {
							b.Fatal(err)
						}
						if len(msgs) != benchSeedCount || (v.want&WantParsed != 0) != (msgs[benchSeedCount-1].Parsed != nil) {
							b.Fatalf("%d messages, parsed %v", len(msgs), msgs[benchSeedCount-1].Parsed != nil)
						}
					}
					b.ReportMetric(float64(benchSeedCount)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				})
			}
		})
	}
}

// BenchmarkSearchHeader10k runs SEARCH HEADER Subject "needle" over 10,000
// messages (100 match).
func BenchmarkSearchHeader10k(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			s, a, mb := benchSeed10k(b, backend)
			ctx := context.Background()
			c := &SearchCriteria{Header: []HeaderMatch{{Field: "Subject", Value: "NEEDLE"}}}
			// A sub-benchmark, so that the seeding above runs once.
			b.Run("subject", func(b *testing.B) {
				for range b.N {
					uids, err := s.Search(ctx, a, mb.ID, c)
					if err != nil {
						b.Fatal(err)
					}
					if len(uids) != benchSeedCount/100 {
						b.Fatalf("found %d, want %d", len(uids), benchSeedCount/100)
					}
				}
				b.ReportMetric(float64(benchSeedCount)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		})
	}
}
