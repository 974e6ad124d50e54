package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// "letterbox bench lmtp" is a load generator for any LMTP server (TCP or
// unix socket), so that Letterbox and Dovecot are measured with the same
// tool. It pipelines each transaction as Postfix does (MAIL, RCPTs and
// DATA in one write), sends unique messages (so content-addressed storage
// cannot fold them), and counts only the per-recipient 250 replies after
// the data.

func init() {
	benchScenarios["lmtp"] = benchScenario{
		summary: "LMTP load generator for any LMTP server",
		run:     runBenchLMTP,
	}
}

// lmtpBenchOpts are the flags of "letterbox bench lmtp".
type lmtpBenchOpts struct {
	addr     string
	messages int
	conns    int
	rcpts    int
	sizes    []lmtpSize
	rcpt     string
	users    int
	from     string
	pid      int
	timeout  time.Duration
	jsonPath string
	quiet    bool
}

// lmtpSize is one entry of a size mix: messages of size bytes, weight of
// them in every sum-of-weights.
type lmtpSize struct {
	size   int64
	weight int
}

const lmtpBenchHelp = `Sends -n messages over -c connections, each message to -r recipients
(-rcpt with %d replaced by a counter modulo -users), and reports messages/s,
MB/s and latency percentiles of whole transactions (MAIL to the last reply).
A message counts as delivered when every one of its recipients got 250 after
the data; any other reply is counted apart. -size takes one size (10K) or a
mix with weights (10K:90,1M:10). -pid PID samples that process's resident
memory (Linux) during the run and reports its growth over the start.

-addr is host:port, or a unix socket path (/run/dovecot/lmtp or unix:/path).`

func runBenchLMTP(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench lmtp", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var o lmtpBenchOpts
	var sizes string
	fs.StringVar(&o.addr, "addr", "127.0.0.1:2424", "server `host:port` or unix socket path")
	fs.IntVar(&o.messages, "n", 1000, "number of `messages`")
	fs.IntVar(&o.conns, "c", 1, "concurrent `connections`")
	fs.IntVar(&o.rcpts, "r", 1, "`recipients` per message")
	fs.StringVar(&sizes, "size", "10K", "message `size` or weighted mix (10K:90,1M:10)")
	fs.StringVar(&o.rcpt, "rcpt", "u%d@example.com", "recipient `pattern`; %d is a counter modulo -users")
	fs.IntVar(&o.users, "users", 1, "distinct `users` behind %d in -rcpt")
	fs.StringVar(&o.from, "from", "bench@example.org", "envelope `sender`")
	fs.IntVar(&o.pid, "pid", 0, "server `PID` whose resident memory is sampled")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "time limit for one transaction")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to `FILE`")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the one-line summary")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: letterbox bench lmtp [flags]")
		fmt.Fprintf(fs.Output(), "\n%s\n\nflags:\n", lmtpBenchHelp)
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench lmtp takes no arguments")
	}
	var err error
	if o.sizes, err = parseSizeMix(sizes); err != nil {
		return usagef("-size: %v", err)
	}
	if o.messages < 1 || o.conns < 1 || o.rcpts < 1 || o.users < 1 {
		return usagef("-n, -c, -r and -users must be at least 1")
	}
	res, err := benchLMTP(ctx, &o)
	if err != nil {
		return err
	}
	res.print(os.Stdout, o.quiet)
	if o.jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if res.Delivered == 0 {
		return fmt.Errorf("no message was delivered (%d other replies, %d errors: %s)", res.Refused, res.Errors, res.FirstError)
	}
	return nil
}

// parseSizeMix reads "10K" or "10K:90,1M:10".
func parseSizeMix(s string) ([]lmtpSize, error) {
	var out []lmtpSize
	for part := range strings.SplitSeq(s, ",") {
		sz, w, hasW := strings.Cut(part, ":")
		n, err := parseSize(sz)
		if err != nil {
			return nil, err
		}
		weight := 1
		if hasW {
			if weight, err = strconv.Atoi(w); err != nil || weight < 1 {
				return nil, fmt.Errorf("weight %q: want a positive integer", w)
			}
		}
		if n < 200 {
			return nil, fmt.Errorf("size %d: messages are at least 200 bytes", n)
		}
		out = append(out, lmtpSize{n, weight})
	}
	return out, nil
}

// lmtpBenchResult is what a run measured.
type lmtpBenchResult struct {
	Addr        string   `json:"addr"`
	Messages    int      `json:"messages"`
	Connections int      `json:"connections"`
	Recipients  int      `json:"recipients"`
	Sizes       string   `json:"sizes"`
	Delivered   int      `json:"delivered"`      // messages whose every recipient got 250
	Rcpt250     int      `json:"rcpt_250"`       // per-recipient 250 replies after the data
	Refused     int      `json:"refused"`        // other replies (RCPT or after the data)
	Errors      int      `json:"errors"`         // transactions cut by a connection error
	Seconds     float64  `json:"seconds"`        //
	MsgsPerSec  float64  `json:"messages_per_s"` // delivered messages per second
	MBPerSec    float64  `json:"mb_per_s"`       // delivered message bytes per second, 10^6
	P50ms       float64  `json:"p50_ms"`
	P90ms       float64  `json:"p90_ms"`
	P99ms       float64  `json:"p99_ms"`
	Maxms       float64  `json:"max_ms"`
	RSSBaseMB   float64  `json:"rss_base_mb,omitempty"`
	RSSPeakMB   float64  `json:"rss_peak_mb,omitempty"`
	RSSGrowthMB *float64 `json:"rss_growth_mb,omitempty"` // set when sampled, even at 0
	FirstError  string   `json:"first_error,omitempty"`
}

func (r *lmtpBenchResult) print(w io.Writer, quiet bool) {
	line := fmt.Sprintf("lmtp %s: %d/%d delivered, %.1f messages/s, %.2f MB/s, p50 %.1fms p90 %.1fms p99 %.1fms",
		r.Addr, r.Delivered, r.Messages, r.MsgsPerSec, r.MBPerSec, r.P50ms, r.P90ms, r.P99ms)
	if r.RSSGrowthMB != nil {
		line += fmt.Sprintf(", rss +%.1f MB", *r.RSSGrowthMB)
	}
	fmt.Fprintln(w, line)
	if quiet {
		return
	}
	fmt.Fprintf(w, "  %d messages of %s to %s, %d connections, %d recipients each\n", r.Messages, r.Sizes, r.Addr, r.Connections, r.Recipients)
	fmt.Fprintf(w, "  %d delivered (%d recipient 250s), %d other replies, %d connection errors, in %.3fs\n",
		r.Delivered, r.Rcpt250, r.Refused, r.Errors, r.Seconds)
	fmt.Fprintf(w, "  latency p50 %.2fms p90 %.2fms p99 %.2fms max %.2fms\n", r.P50ms, r.P90ms, r.P99ms, r.Maxms)
	if r.RSSGrowthMB != nil {
		fmt.Fprintf(w, "  server rss %.1f MB at start, %.1f MB at peak: +%.1f MB\n", r.RSSBaseMB, r.RSSPeakMB, *r.RSSGrowthMB)
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "  first problem: %s\n", r.FirstError)
	}
}

// lmtpBody is the shared body text: base64 lines (never a leading dot,
// so no dot-stuffing), sliced to each message's size. Messages differ
// by their header.
type lmtpBody struct{ text []byte }

func newLMTPBody(max int64) *lmtpBody {
	raw := make([]byte, max*3/4+76)
	rng := rand.NewChaCha8([32]byte{'l', 'm', 't', 'p'})
	rng.Read(raw)
	enc := base64.StdEncoding.EncodeToString(raw)
	var b strings.Builder
	b.Grow(int(max) + 200)
	for len(enc) > 0 && int64(b.Len()) < max {
		n := min(76, len(enc))
		b.WriteString(enc[:n])
		b.WriteString("\r\n")
		enc = enc[n:]
	}
	return &lmtpBody{[]byte(b.String())}
}

// message builds message number i of the given size: a unique header and
// as much body as makes up the size.
func (b *lmtpBody) message(i int, size int64, from, to string) []byte {
	hdr := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: bench message %d\r\nDate: %s\r\n"+
		"Message-ID: <%d.%d@bench.letterbox>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n",
		from, to, i, time.Now().Format(time.RFC1123Z), i, time.Now().UnixNano())
	need := max(size-int64(len(hdr)), 2)
	body := b.text[:min(need, int64(len(b.text)))]
	if body[len(body)-1] != '\n' { // end on a line end: cut back to the last CRLF
		if k := strings.LastIndex(string(body), "\r\n"); k >= 0 {
			body = body[:k+2]
		}
	}
	msg := make([]byte, 0, len(hdr)+len(body))
	return append(append(msg, hdr...), body...)
}

func benchLMTP(ctx context.Context, o *lmtpBenchOpts) (*lmtpBenchResult, error) {
	var maxSize int64
	var mix []string
	var weights int
	for _, s := range o.sizes {
		maxSize = max(maxSize, s.size)
		mix = append(mix, fmt.Sprintf("%s:%d", formatSize(s.size), s.weight))
		weights += s.weight
	}
	body := newLMTPBody(maxSize)
	res := &lmtpBenchResult{Addr: o.addr, Messages: o.messages, Connections: o.conns, Recipients: o.rcpts, Sizes: strings.Join(mix, ",")}
	// Sizes are drawn up front from a fixed seed: every run, against any
	// server, sends the same sequence.
	rng := rand.New(rand.NewPCG(1, 2))
	sizeOf := make([]int64, o.messages)
	for i := range sizeOf {
		k := rng.IntN(weights)
		for _, s := range o.sizes {
			if k -= s.weight; k < 0 {
				sizeOf[i] = s.size
				break
			}
		}
	}

	var rss *rssSampler
	if o.pid > 0 {
		var err error
		if rss, err = startRSSSampler(o.pid); err != nil {
			return nil, err
		}
	}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var bytes int64
	start := time.Now()
	var wg sync.WaitGroup
	for range o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *lmtpBenchConn
			defer func() {
				if c != nil {
					c.close()
				}
			}()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= o.messages {
					return
				}
				var rcpts []string
				for j := range o.rcpts {
					rc := o.rcpt
					if strings.Contains(rc, "%d") {
						rc = fmt.Sprintf(rc, (i*o.rcpts+j)%o.users)
					}
					rcpts = append(rcpts, rc)
				}
				msg := body.message(i, sizeOf[i], o.from, rcpts[0])
				t0 := time.Now()
				var ok250, other int
				var err error
				if c == nil {
					c, err = dialLMTPBench(o.addr, o.timeout)
				}
				if err == nil {
					ok250, other, err = c.transaction(o.from, rcpts, msg, o.timeout)
				}
				d := time.Since(t0)
				mu.Lock()
				res.Rcpt250 += ok250
				res.Refused += other
				if err != nil {
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				} else if other > 0 && res.FirstError == "" {
					res.FirstError = c.lastRefusal
				}
				if err == nil && ok250 == len(rcpts) {
					res.Delivered++
					bytes += int64(len(msg))
					lat = append(lat, d)
				}
				mu.Unlock()
				if err != nil && c != nil {
					c.close()
					c = nil
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if rss != nil {
		res.RSSBaseMB, res.RSSPeakMB = rss.stop()
		growth := res.RSSPeakMB - res.RSSBaseMB
		res.RSSGrowthMB = &growth
	}
	res.Seconds = elapsed.Seconds()
	res.MsgsPerSec = float64(res.Delivered) / elapsed.Seconds()
	res.MBPerSec = float64(bytes) / 1e6 / elapsed.Seconds()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	res.P50ms, res.P90ms, res.P99ms, res.Maxms = pct(0.50), pct(0.90), pct(0.99), pct(1)
	return res, ctx.Err()
}

// lmtpBenchConn is a raw pipelining LMTP client.
type lmtpBenchConn struct {
	nc          net.Conn
	r           *bufio.Reader
	w           *bufio.Writer
	lastRefusal string
}

func dialLMTPBench(addr string, timeout time.Duration) (*lmtpBenchConn, error) {
	network := "tcp"
	if strings.HasPrefix(addr, "unix:") || strings.HasPrefix(addr, "/") {
		network, addr = "unix", strings.TrimPrefix(addr, "unix:")
	}
	nc, err := net.DialTimeout(network, addr, timeout)
	if err != nil {
		return nil, err
	}
	c := &lmtpBenchConn{nc: nc, r: bufio.NewReaderSize(nc, 16<<10), w: bufio.NewWriterSize(nc, 64<<10)}
	nc.SetDeadline(time.Now().Add(timeout))
	if code, line, err := c.reply(); err != nil || code != 220 {
		nc.Close()
		return nil, fmt.Errorf("greeting: %d %s %v", code, line, err)
	}
	c.w.WriteString("LHLO bench.letterbox\r\n")
	if err := c.w.Flush(); err != nil {
		nc.Close()
		return nil, err
	}
	if code, line, err := c.reply(); err != nil || code != 250 {
		nc.Close()
		return nil, fmt.Errorf("LHLO: %d %s %v", code, line, err)
	}
	return c, nil
}

func (c *lmtpBenchConn) close() {
	c.nc.SetDeadline(time.Now().Add(time.Second))
	c.w.WriteString("QUIT\r\n")
	c.w.Flush()
	c.nc.Close()
}

// reply reads one reply; a multi-line reply gives its last line.
func (c *lmtpBenchConn) reply() (int, string, error) {
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return 0, "", err
		}
		if len(line) < 4 {
			return 0, "", fmt.Errorf("malformed reply %q", line)
		}
		if line[3] == '-' {
			continue
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil {
			return 0, "", fmt.Errorf("malformed reply %q", line)
		}
		return code, strings.TrimRight(line, "\r\n"), nil
	}
}

// transaction sends one message, pipelined, and counts the 250s and the
// other replies to its recipients.
func (c *lmtpBenchConn) transaction(from string, rcpts []string, msg []byte, timeout time.Duration) (ok, other int, err error) {
	c.nc.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(c.w, "MAIL FROM:<%s>\r\n", from)
	for _, rc := range rcpts {
		fmt.Fprintf(c.w, "RCPT TO:<%s>\r\n", rc)
	}
	c.w.WriteString("DATA\r\n")
	if err := c.w.Flush(); err != nil {
		return 0, 0, err
	}
	code, line, err := c.reply()
	if err != nil {
		return 0, 0, err
	}
	if code != 250 {
		c.lastRefusal = "MAIL: " + line
	}
	accepted := 0
	for range rcpts {
		code, line, err := c.reply()
		if err != nil {
			return 0, other, err
		}
		if code == 250 {
			accepted++
		} else {
			other++
			c.lastRefusal = "RCPT: " + line
		}
	}
	code, line, err = c.reply()
	if err != nil {
		return 0, other, err
	}
	if code != 354 {
		c.lastRefusal = "DATA: " + line
		return 0, other + accepted, nil
	}
	// The body has no line starting with a dot (see lmtpBody); the header
	// is ours: no dot-stuffing needed.
	c.w.Write(msg)
	c.w.WriteString(".\r\n")
	if err := c.w.Flush(); err != nil {
		return 0, other, err
	}
	for range accepted {
		code, line, err := c.reply()
		if err != nil {
			return ok, other, err
		}
		if code == 250 {
			ok++
		} else {
			other++
			c.lastRefusal = "after DATA: " + line
		}
	}
	return ok, other, nil
}

// rssSampler samples a process's resident memory (VmRSS in
// /proc/PID/status) every few milliseconds and keeps the peak.
type rssSampler struct {
	pid  int
	base int64
	peak atomic.Int64
	quit chan struct{}
	done chan struct{}
}

func startRSSSampler(pid int) (*rssSampler, error) {
	base, err := readRSS(pid)
	if err != nil {
		return nil, err
	}
	s := &rssSampler{pid: pid, base: base, quit: make(chan struct{}), done: make(chan struct{})}
	s.peak.Store(base)
	go func() {
		defer close(s.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
			if n, err := readRSS(pid); err == nil && n > s.peak.Load() {
				s.peak.Store(n)
			}
		}
	}()
	return s, nil
}

// stop ends the sampling and returns the base and peak in MB (10^6 bytes).
func (s *rssSampler) stop() (base, peak float64) {
	close(s.quit)
	<-s.done
	if n, err := readRSS(s.pid); err == nil && n > s.peak.Load() {
		s.peak.Store(n)
	}
	return float64(s.base) / 1e6, float64(s.peak.Load()) / 1e6
}

func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read resident memory: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				break
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("read resident memory: no VmRSS line")
}
