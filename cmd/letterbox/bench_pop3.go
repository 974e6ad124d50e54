package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() {
	benchScenarios["pop3"] = benchScenario{
		summary: "login, STAT, UIDL, RETR every message, QUIT, by C clients at once",
		run:     runBenchPOP3,
	}
}

// pop3BenchConfig is what one POP3 bench run needs.
type pop3BenchConfig struct {
	addr      string
	user      string // may hold %d: the client's number, from 1
	password  string
	clients   int
	mode      string // "plain", "stls" or "tls"
	auth      string // "user" (USER/PASS) or "plain" (AUTH PLAIN)
	tlsConfig *tls.Config
	timeout   time.Duration
}

// pop3ClientResult is what one client did in one run.
type pop3ClientResult struct {
	Messages int           `json:"messages"`
	Bytes    int64         `json:"bytes"` // message octets, after unstuffing
	Login    time.Duration `json:"login_ns"`
	List     time.Duration `json:"stat_uidl_ns"`
	Retr     time.Duration `json:"retr_ns"`
	Total    time.Duration `json:"total_ns"`
}

// pop3RunResult is one run: every client at once.
type pop3RunResult struct {
	Run      int           `json:"run"`
	Clients  int           `json:"clients"`
	Messages int           `json:"messages"`
	Bytes    int64         `json:"bytes"`
	Wall     time.Duration `json:"wall_ns"`
	Login    time.Duration `json:"login_median_ns"`
	Retr     time.Duration `json:"retr_median_ns"`
}

func runBenchPOP3(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench pop3", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	addr := fs.String("addr", "127.0.0.1:1110", "server `HOST:PORT`")
	user := fs.String("user", "", "login `NAME`; %d in it becomes the client's number (1..C), so that\n"+
		"each client has its own maildrop (POP3 servers lock a maildrop to one session)")
	clients := fs.Int("clients", 1, "clients at once (`C`)")
	runs := fs.Int("runs", 1, "runs, one after the other; the median is reported")
	password := fs.String("password", "", "password of every user (default: $LETTERBOX_BENCH_PASSWORD, or asked)")
	implicitTLS := fs.Bool("tls", false, "implicit TLS (port 995 style)")
	stls := fs.Bool("starttls", false, "STLS before logging in")
	authMode := fs.String("auth", "user", "login with `METHOD`: user (USER/PASS) or plain (AUTH PLAIN)")
	caFile := fs.String("cafile", "", "PEM `FILE` of certificates to trust for TLS (default: the system's)")
	insecure := fs.Bool("insecure", false, "do not verify the server's certificate")
	jsonOut := fs.Bool("json", false, "print one JSON object per run instead of text")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up on a client after this long")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: letterbox bench pop3 -user NAME [flags]\n\n"+
			"Each client logs in, sends STAT and UIDL, retrieves every message with RETR\n"+
			"(one command at a time, as fetchmail and getmail do) and QUITs without deleting.\n"+
			"Works against any POP3 server. Every user has the same password.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return usagef("bench pop3 takes no arguments")
	case *user == "":
		return usagef("bench pop3 needs -user")
	case *clients < 1 || *runs < 1:
		return usagef("-clients and -runs must be at least 1")
	case *implicitTLS && *stls:
		return usagef("-tls and -starttls exclude each other")
	case *authMode != "user" && *authMode != "plain":
		return usagef("-auth must be user or plain")
	}
	mode := "plain"
	if *implicitTLS {
		mode = "tls"
	} else if *stls {
		mode = "stls"
	}
	cfg := pop3BenchConfig{addr: *addr, user: *user, clients: *clients, mode: mode, auth: *authMode, timeout: *timeout}
	cfg.password = *password
	if cfg.password == "" {
		cfg.password = os.Getenv("LETTERBOX_BENCH_PASSWORD")
	}
	if cfg.password == "" {
		p, err := readPassword("password")
		if err != nil {
			return err
		}
		cfg.password = p
	}
	if mode != "plain" {
		host, _, _ := net.SplitHostPort(*addr)
		cfg.tlsConfig = &tls.Config{ServerName: host, InsecureSkipVerify: *insecure}
		if *caFile != "" {
			pem, err := os.ReadFile(*caFile)
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("%s: no PEM certificates", *caFile)
			}
			cfg.tlsConfig.RootCAs = pool
		}
	}
	var results []pop3RunResult
	for i := 1; i <= *runs; i++ {
		r, err := benchPOP3Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		r.Run = i
		results = append(results, r)
		if *jsonOut {
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
		} else {
			printPOP3Run(r)
		}
	}
	if *runs > 1 && !*jsonOut {
		walls := make([]time.Duration, len(results))
		for i, r := range results {
			walls[i] = r.Wall
		}
		med := medianDuration(walls)
		r := results[0]
		fmt.Printf("median of %d runs: %.3fs wall, %.0f messages/s, %.1f MB/s\n", *runs, med.Seconds(),
			float64(r.Messages)/med.Seconds(), float64(r.Bytes)/med.Seconds()/1e6)
	}
	return nil
}

func printPOP3Run(r pop3RunResult) {
	fmt.Printf("run %d: %d clients, %d messages, %.1f MB in %.3fs: %.0f messages/s, %.1f MB/s (per client: login %.1fms, RETR all %.3fs)\n",
		r.Run, r.Clients, r.Messages, float64(r.Bytes)/1e6, r.Wall.Seconds(),
		float64(r.Messages)/r.Wall.Seconds(), float64(r.Bytes)/r.Wall.Seconds()/1e6,
		float64(r.Login.Microseconds())/1000, r.Retr.Seconds())
}

func medianDuration(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchPOP3Run starts every client at the same moment and waits for all.
func benchPOP3Run(ctx context.Context, cfg pop3BenchConfig) (pop3RunResult, error) {
	results := make([]pop3ClientResult, cfg.clients)
	errs := make([]error, cfg.clients)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = benchPOP3Client(ctx, cfg, i+1)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	run := pop3RunResult{Clients: cfg.clients, Wall: time.Since(t0)}
	if err := errors.Join(errs...); err != nil {
		return run, err
	}
	var logins, retrs []time.Duration
	for _, r := range results {
		run.Messages += r.Messages
		run.Bytes += r.Bytes
		logins = append(logins, r.Login)
		retrs = append(retrs, r.Retr)
	}
	run.Login, run.Retr = medianDuration(logins), medianDuration(retrs)
	return run, nil
}

// pop3BenchConn is a minimal POP3 client.
type pop3BenchConn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
}

func (c *pop3BenchConn) cmd(line string) (string, error) {
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return "", err
	}
	return c.status(strings.Fields(line)[0])
}

// status reads a reply line; -ERR is an error.
func (c *pop3BenchConn) status(what string) (string, error) {
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	l = strings.TrimRight(l, "\r\n")
	if !strings.HasPrefix(l, "+OK") && !strings.HasPrefix(l, "+ ") && l != "+" {
		return "", fmt.Errorf("%s: %s", what, l)
	}
	return l, nil
}

// body reads a multi-line response to its final "." and returns the number
// of lines and the octets they stand for once unstuffed.
func (c *pop3BenchConn) body() (lines int, octets int64, err error) {
	for {
		l, err := c.r.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			octets += int64(len(l))
			l, err = c.r.ReadSlice('\n')
		}
		if err != nil {
			return lines, octets, err
		}
		if len(l) == 3 && l[0] == '.' && l[1] == '\r' {
			return lines, octets, nil
		}
		if l[0] == '.' {
			octets-- // dot-stuffing
		}
		octets += int64(len(l))
		lines++
	}
}

// benchPOP3Client runs one client's session.
func benchPOP3Client(ctx context.Context, cfg pop3BenchConfig, n int) (pop3ClientResult, error) {
	var res pop3ClientResult
	user := cfg.user
	if strings.Contains(user, "%d") {
		user = fmt.Sprintf(user, n)
	}
	t0 := time.Now()
	d := net.Dialer{Timeout: 30 * time.Second}
	var nc net.Conn
	var err error
	if cfg.mode == "tls" {
		nc, err = tls.DialWithDialer(&d, "tcp", cfg.addr, cfg.tlsConfig)
	} else {
		nc, err = d.DialContext(ctx, "tcp", cfg.addr)
	}
	if err != nil {
		return res, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(cfg.timeout))
	c := &pop3BenchConn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriter(nc)}
	if _, err := c.status("greeting"); err != nil {
		return res, err
	}
	if cfg.mode == "stls" {
		if _, err := c.cmd("STLS"); err != nil {
			return res, err
		}
		tc := tls.Client(nc, cfg.tlsConfig)
		if err := tc.Handshake(); err != nil {
			return res, err
		}
		c.nc, c.r, c.w = tc, bufio.NewReaderSize(tc, 64<<10), bufio.NewWriter(tc)
	}
	if cfg.auth == "plain" {
		ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + cfg.password))
		if _, err := c.cmd("AUTH PLAIN " + ir); err != nil {
			return res, fmt.Errorf("%s: %w", user, err)
		}
	} else {
		if _, err := c.cmd("USER " + user); err != nil {
			return res, err
		}
		if _, err := c.cmd("PASS " + cfg.password); err != nil {
			return res, fmt.Errorf("%s: %w", user, err)
		}
	}
	t1 := time.Now()
	res.Login = t1.Sub(t0)
	stat, err := c.cmd("STAT")
	if err != nil {
		return res, err
	}
	f := strings.Fields(stat)
	if len(f) < 3 {
		return res, fmt.Errorf("STAT: %q", stat)
	}
	count, err1 := strconv.Atoi(f[1])
	size, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return res, fmt.Errorf("STAT: %q", stat)
	}
	if _, err := c.cmd("UIDL"); err != nil {
		return res, err
	}
	if lines, _, err := c.body(); err != nil || lines != count {
		return res, fmt.Errorf("UIDL: %d lines for %d messages (%v)", lines, count, err)
	}
	t2 := time.Now()
	res.List = t2.Sub(t1)
	for i := 1; i <= count; i++ {
		if _, err := c.cmd("RETR " + strconv.Itoa(i)); err != nil {
			return res, err
		}
		_, octets, err := c.body()
		if err != nil {
			return res, fmt.Errorf("RETR %d: %w", i, err)
		}
		res.Bytes += octets
		res.Messages++
	}
	t3 := time.Now()
	res.Retr = t3.Sub(t2)
	// What STAT promised is what RETR delivered (RFC 1939 section 11).
	if res.Bytes != size {
		return res, fmt.Errorf("%s: RETR sent %d octets, STAT said %d", user, res.Bytes, size)
	}
	if _, err := c.cmd("QUIT"); err != nil {
		return res, err
	}
	res.Total = time.Since(t0)
	return res, nil
}
