package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// "letterbox bench imap" is a load generator for any IMAP server, so that
// Letterbox and Dovecot are measured with the same tool. It speaks IMAP
// through a small raw client (below) rather than a full client library:
// it parses only what it needs (tags, EXISTS, FETCH counts, APPENDUID,
// CAPABILITY) and discards literals unread, so that on a small machine,
// where the load generator and the server share the CPUs, the numbers
// measure the server rather than the client's parser.

func init() {
	benchScenarios["imap"] = benchScenario{
		summary: "IMAP load generator (mixed, fetch, idle) for any IMAP server",
		run:     runBenchIMAP,
	}
}

// imapBenchOpts are the flags of "letterbox bench imap".
type imapBenchOpts struct {
	addr         string
	user         string
	users        int
	password     string
	tls          bool
	starttls     bool
	insecure     bool
	clients      int
	duration     time.Duration
	scenario     string
	mailbox      string
	messages     int
	pids         string
	wake         int
	timeout      time.Duration
	dialParallel int
	jsonPath     string
	quiet        bool
	seedOnly     bool

	out io.Writer // the report; os.Stdout from the command line
	log io.Writer // progress lines; os.Stderr from the command line
}

const imapBenchHelp = `Scenarios:
  mixed  each client loops (in the spirit of imaptest): connect, LOGIN, SELECT,
         FETCH the last 10 messages (UID FLAGS ENVELOPE), FETCH one BODY.PEEK[],
         STORE flags on a random message, APPEND a message, mark it \Deleted,
         EXPUNGE, LOGOUT. Reports operations per second and latency
         percentiles per command.
  fetch  FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)
         repeatedly on a mailbox of -messages messages (seeded with APPEND when
         it holds fewer); reports the first fetch and the median of later ones.
  idle   opens -clients connections, LOGIN, SELECT, IDLE, holds them for
         -duration; -wake K appends K messages from one extra connection and
         times the EXISTS on the idlers of that user; -pid PID reports the
         server's resident memory (the process and its descendants) at peak.

-user is a pattern: %d is replaced by the client index modulo -users, so
"u%d@example.com" with -users 50 spreads clients over u0..u49; a name without
%d is one user for every client. Every user needs the same -password.`

func runBenchIMAP(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench imap", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var o imapBenchOpts
	fs.StringVar(&o.addr, "addr", "127.0.0.1:1143", "server `host:port`")
	fs.StringVar(&o.user, "user", "u%d@example.com", "login name `pattern`; %d is the client index modulo -users")
	fs.IntVar(&o.users, "users", 0, "number of distinct users behind %d in -user (default: -clients)")
	fs.StringVar(&o.password, "password", "", "password of every user")
	fs.BoolVar(&o.tls, "tls", false, "implicit TLS (port 993 style)")
	fs.BoolVar(&o.starttls, "starttls", false, "STARTTLS before logging in")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server's certificate")
	fs.IntVar(&o.clients, "clients", 0, "concurrent clients or connections (default: mixed 10, fetch 1, idle 100)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to run (idle: how long to hold the connections)")
	fs.StringVar(&o.scenario, "scenario", "mixed", "mixed, fetch or idle")
	fs.StringVar(&o.mailbox, "mailbox", "INBOX", "mailbox to work on")
	fs.IntVar(&o.messages, "messages", -1, "seed each user's mailbox with APPEND up to this many messages; -1: the scenario's default (mixed 100, fetch 1000, idle 0)")
	fs.StringVar(&o.pids, "pid", "", "server `PID`s (comma-separated) whose resident memory, with their descendants', the idle scenario reports")
	fs.IntVar(&o.wake, "wake", 3, "idle: wake-up measurements (APPEND from an extra connection, time to EXISTS)")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "time limit for one command")
	fs.IntVar(&o.dialParallel, "dial-parallel", 64, "idle: connections being set up at once")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to `FILE`")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.BoolVar(&o.seedOnly, "seed-only", false, "only seed the mailboxes (-messages) and stop")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: letterbox bench imap [flags]")
		fmt.Fprintf(fs.Output(), "\n%s\n\nflags:\n", imapBenchHelp)
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench imap takes no arguments")
	}
	o.out, o.log = os.Stdout, os.Stderr
	if o.quiet {
		o.log = io.Discard
	}
	res, err := benchIMAP(ctx, &o)
	if res != nil {
		res.print(o.out)
		if o.jsonPath != "" {
			b, jerr := json.MarshalIndent(res, "", "  ")
			if jerr == nil {
				jerr = os.WriteFile(o.jsonPath, append(b, '\n'), 0o644)
			}
			if jerr != nil && err == nil {
				err = jerr
			}
		}
	}
	return err
}

// benchIMAP checks the options, fills in the scenario's defaults and runs it.
func benchIMAP(ctx context.Context, o *imapBenchOpts) (*imapBenchResult, error) {
	if o.out == nil {
		o.out = io.Discard
	}
	if o.log == nil {
		o.log = io.Discard
	}
	defClients, defMessages := 0, 0
	switch o.scenario {
	case "mixed":
		defClients, defMessages = 10, 100
	case "fetch":
		defClients, defMessages = 1, 1000
	case "idle":
		defClients, defMessages = 100, 0
	default:
		return nil, usagef("unknown -scenario %q: mixed, fetch or idle", o.scenario)
	}
	if o.clients <= 0 {
		o.clients = defClients
	}
	if o.messages < 0 {
		o.messages = defMessages
	}
	if o.users <= 0 {
		o.users = o.clients
	}
	if o.users > o.clients {
		o.users = o.clients
	}
	if !strings.Contains(o.user, "%d") {
		o.users = 1
	}
	if o.password == "" {
		return nil, usagef("-password is required")
	}
	if o.tls && o.starttls {
		return nil, usagef("-tls and -starttls exclude each other")
	}
	if o.duration <= 0 {
		return nil, usagef("-duration must be positive")
	}
	if o.timeout <= 0 {
		o.timeout = 60 * time.Second
	}
	if o.dialParallel <= 0 {
		o.dialParallel = 1
	}
	pids, err := parsePIDs(o.pids)
	if err != nil {
		return nil, usagef("%v", err)
	}
	res := &imapBenchResult{
		Scenario: o.scenario,
		Addr:     o.addr,
		Clients:  o.clients,
		Users:    o.users,
		Mailbox:  o.mailbox,
	}
	if o.seedOnly {
		t0 := time.Now()
		n, err := seedUsers(ctx, o, o.messages)
		o.logf("seeded %d users: %d messages appended in %.1f s", o.users, n, time.Since(t0).Seconds())
		res.SeededPerUser = o.messages
		res.Seconds = time.Since(t0).Seconds()
		return res, err
	}
	switch o.scenario {
	case "mixed":
		err = benchMixed(ctx, o, res)
	case "fetch":
		err = benchFetch(ctx, o, res)
	case "idle":
		err = benchIdle(ctx, o, res, pids)
	}
	return res, err
}

func (o *imapBenchOpts) userName(i int) string {
	if !strings.Contains(o.user, "%d") {
		return o.user
	}
	return strings.ReplaceAll(o.user, "%d", strconv.Itoa(i%o.users))
}

func (o *imapBenchOpts) logf(format string, args ...any) {
	fmt.Fprintf(o.log, "bench imap: "+format+"\n", args...)
}

// ---------------------------------------------------------------------------
// Results.

type imapBenchResult struct {
	Scenario string  `json:"scenario"`
	Addr     string  `json:"addr"`
	Clients  int     `json:"clients"`
	Users    int     `json:"users"`
	Mailbox  string  `json:"mailbox"`
	Seconds  float64 `json:"seconds"` // the measured phase
	Server   string  `json:"server,omitempty"`

	Commands      []imapCmdStats `json:"commands,omitempty"`
	TotalOps      int            `json:"total_ops"`
	TotalOpsPerS  float64        `json:"total_ops_per_s"`
	TotalErrors   int            `json:"total_errors"`
	Cycles        int            `json:"cycles"`
	CyclesPerS    float64        `json:"cycles_per_s"`
	SeededPerUser int            `json:"seeded_per_user"`

	Fetch *imapFetchStats `json:"fetch,omitempty"`
	Idle  *imapIdleStats  `json:"idle,omitempty"`
}

type imapCmdStats struct {
	Name      string  `json:"name"`
	Count     int     `json:"count"`
	Errors    int     `json:"errors"`
	FirstErr  string  `json:"first_error,omitempty"`
	OpsPerS   float64 `json:"ops_per_s"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	counted   bool    // part of the totals (connect and cycle are not)
	durations []time.Duration
}

type imapFetchStats struct {
	Messages      int     `json:"messages"`
	Seeded        int     `json:"seeded"`
	SeedSeconds   float64 `json:"seed_seconds"`
	FirstMs       float64 `json:"first_ms"`
	Later         int     `json:"later"`
	LaterMedianMs float64 `json:"later_median_ms"`
	LaterMinMs    float64 `json:"later_min_ms"`
	LaterP90Ms    float64 `json:"later_p90_ms"`
	LaterMaxMs    float64 `json:"later_max_ms"`
	BytesPerFetch int64   `json:"bytes_per_fetch"`
	MsgsPerS      float64 `json:"messages_per_s"` // at the later median
	Mismatches    int     `json:"mismatches"`     // fetches whose FETCH count was not the mailbox size
	Errors        int     `json:"errors"`
	FirstErr      string  `json:"first_error,omitempty"`
}

type imapIdleStats struct {
	Requested     int     `json:"requested"`
	Held          int     `json:"held"`
	Failed        int     `json:"failed"`
	FirstErr      string  `json:"first_error,omitempty"`
	LostDuring    int     `json:"lost_during_hold"`
	SetupSeconds  float64 `json:"setup_seconds"`
	SetupP50ms    float64 `json:"setup_p50_ms"`
	SetupP99ms    float64 `json:"setup_p99_ms"`
	PIDs          []int   `json:"pids,omitempty"`
	Procs         int     `json:"procs,omitempty"`
	RSSBaseKB     int64   `json:"rss_base_kb,omitempty"`
	PSSBaseKB     int64   `json:"pss_base_kb,omitempty"`
	RSSHeldKB     int64   `json:"rss_held_kb,omitempty"`
	RSSPeakKB     int64   `json:"rss_peak_kb,omitempty"`
	PSSPeakKB     int64   `json:"pss_peak_kb,omitempty"`
	RSSEndKB      int64   `json:"rss_end_kb,omitempty"` // at the end of the hold
	PSSEndKB      int64   `json:"pss_end_kb,omitempty"`
	KBPerConn     float64 `json:"kb_per_conn,omitempty"`
	WakeRounds    int     `json:"wake_rounds"`
	WakeExpected  int     `json:"wake_expected"`
	WakeReceived  int     `json:"wake_received"`
	WakeP50ms     float64 `json:"wake_p50_ms"`
	WakeP90ms     float64 `json:"wake_p90_ms"`
	WakeMaxMs     float64 `json:"wake_max_ms"`
	WakeAppendMs  float64 `json:"wake_append_ms"`
	WakeWindowSec float64 `json:"wake_window_s"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// recorder collects one client's latencies; merged at the end, so that
// clients never contend on a lock while measuring.
type recorder struct {
	lat      map[string][]time.Duration
	errs     map[string]int
	firstErr map[string]string
}

func newRecorder() *recorder {
	return &recorder{lat: map[string][]time.Duration{}, errs: map[string]int{}, firstErr: map[string]string{}}
}

func (r *recorder) ok(name string, d time.Duration) { r.lat[name] = append(r.lat[name], d) }

func (r *recorder) fail(name string, err error) {
	r.errs[name]++
	if _, ok := r.firstErr[name]; !ok {
		r.firstErr[name] = err.Error()
	}
}

// mixedOrder is the order of the rows in the mixed report.
var mixedOrder = []string{"connect", "LOGIN", "SELECT", "FETCH", "FETCH body", "STORE", "APPEND", "EXPUNGE", "LOGOUT", "cycle"}

func (res *imapBenchResult) addCommands(recs []*recorder, order []string, elapsed time.Duration) {
	res.Seconds = elapsed.Seconds()
	for _, name := range order {
		st := imapCmdStats{Name: name, counted: name != "connect" && name != "cycle"}
		for _, r := range recs {
			st.durations = append(st.durations, r.lat[name]...)
			st.Errors += r.errs[name]
			if st.FirstErr == "" {
				st.FirstErr = r.firstErr[name]
			}
		}
		slices.Sort(st.durations)
		st.Count = len(st.durations)
		if st.Count == 0 && st.Errors == 0 {
			continue
		}
		st.OpsPerS = float64(st.Count) / elapsed.Seconds()
		st.P50ms = ms(percentile(st.durations, 0.50))
		st.P90ms = ms(percentile(st.durations, 0.90))
		st.P99ms = ms(percentile(st.durations, 0.99))
		if st.Count > 0 {
			st.MaxMs = ms(st.durations[st.Count-1])
		}
		if st.counted {
			res.TotalOps += st.Count
			res.TotalErrors += st.Errors
		}
		if name == "cycle" {
			res.Cycles = st.Count
			res.CyclesPerS = st.OpsPerS
		}
		res.Commands = append(res.Commands, st)
	}
	res.TotalOpsPerS = float64(res.TotalOps) / elapsed.Seconds()
}

func (res *imapBenchResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nbench imap %s: %s, %d clients over %d users, mailbox %s, %.1f s measured\n",
		res.Scenario, res.Addr, res.Clients, res.Users, res.Mailbox, res.Seconds)
	if res.Server != "" {
		fmt.Fprintf(w, "server greeting: %s\n", res.Server)
	}
	if len(res.Commands) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "command\tcount\terrors\tops/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
		for _, c := range res.Commands {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
				c.Name, c.Count, c.Errors, c.OpsPerS, c.P50ms, c.P90ms, c.P99ms, c.MaxMs)
		}
		fmt.Fprintf(tw, "all commands\t%d\t%d\t%.1f\t\t\t\t\t\n", res.TotalOps, res.TotalErrors, res.TotalOpsPerS)
		tw.Flush()
		for _, c := range res.Commands {
			if c.FirstErr != "" {
				fmt.Fprintf(w, "first %s error: %s\n", c.Name, c.FirstErr)
			}
		}
	}
	if f := res.Fetch; f != nil {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "messages in mailbox\t%d\n", f.Messages)
		if f.Seeded > 0 {
			fmt.Fprintf(tw, "seeded with APPEND\t%d in %.1f s\n", f.Seeded, f.SeedSeconds)
		}
		fmt.Fprintf(tw, "first FETCH 1:*\t%.1f ms\n", f.FirstMs)
		fmt.Fprintf(tw, "later FETCH 1:*\t%d: median %.1f ms, min %.1f, p90 %.1f, max %.1f\n",
			f.Later, f.LaterMedianMs, f.LaterMinMs, f.LaterP90Ms, f.LaterMaxMs)
		fmt.Fprintf(tw, "messages/s (later median)\t%.0f\n", f.MsgsPerS)
		fmt.Fprintf(tw, "bytes per FETCH\t%d\n", f.BytesPerFetch)
		fmt.Fprintf(tw, "count mismatches\t%d\n", f.Mismatches)
		fmt.Fprintf(tw, "errors\t%d\n", f.Errors)
		tw.Flush()
		if f.FirstErr != "" {
			fmt.Fprintf(w, "first error: %s\n", f.FirstErr)
		}
	}
	if d := res.Idle; d != nil {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "connections in IDLE\t%d held of %d (%d failed, %d lost while holding)\n", d.Held, d.Requested, d.Failed, d.LostDuring)
		fmt.Fprintf(tw, "setup\t%.1f s; per connection (connect+LOGIN+SELECT+IDLE) p50 %.1f ms, p99 %.1f ms\n", d.SetupSeconds, d.SetupP50ms, d.SetupP99ms)
		if len(d.PIDs) > 0 {
			fmt.Fprintf(tw, "server memory (pid %v + descendants, %d processes)\tRSS before %.1f MB, all held %.1f MB, peak %.1f MB, end of hold %.1f MB\n",
				d.PIDs, d.Procs, float64(d.RSSBaseKB)/1024, float64(d.RSSHeldKB)/1024, float64(d.RSSPeakKB)/1024, float64(d.RSSEndKB)/1024)
			fmt.Fprintf(tw, "  proportional (PSS: shared pages divided)\tbefore %.1f MB, peak %.1f MB, end of hold %.1f MB\n",
				float64(d.PSSBaseKB)/1024, float64(d.PSSPeakKB)/1024, float64(d.PSSEndKB)/1024)
			fmt.Fprintf(tw, "per held connection\t%.1f KB (peak PSS - PSS before) / held\n", d.KBPerConn)
		}
		if d.WakeRounds > 0 {
			fmt.Fprintf(tw, "wake-ups (APPEND -> EXISTS)\t%d rounds, %d of %d idlers woke; p50 %.1f ms, p90 %.1f ms, max %.1f ms (APPEND itself p50 %.1f ms; waited up to %.0f s)\n",
				d.WakeRounds, d.WakeReceived, d.WakeExpected, d.WakeP50ms, d.WakeP90ms, d.WakeMaxMs, d.WakeAppendMs, d.WakeWindowSec)
		}
		tw.Flush()
		if d.FirstErr != "" {
			fmt.Fprintf(w, "first error: %s\n", d.FirstErr)
		}
	}
}

// ---------------------------------------------------------------------------
// A small raw IMAP client.

// imapStatusError is a tagged NO or BAD.
type imapStatusError struct {
	cmd, status, text string
}

func (e *imapStatusError) Error() string {
	return fmt.Sprintf("%s: %s %s", e.cmd, e.status, e.text)
}

type benchConn struct {
	nc      net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	tag     int
	timeout time.Duration
	caps    map[string]bool
	greet   string

	head  []byte // the start of the last response line, literals skipped
	tail  []byte // scratch: the end of a line read in pieces
	bytes int64  // bytes read
}

// imapReply is what one command's responses said that the bench needs.
type imapReply struct {
	status    string // OK (errors carry NO and BAD)
	text      string // the tagged line after the status
	fetches   int    // untagged FETCH responses
	exists    int    // the last EXISTS, or -1
	appendUID uint32 // from [APPENDUID v uid]
}

func benchDial(parent context.Context, o *imapBenchOpts) (*benchConn, error) {
	// Cancelled only once parent is done, never by a deadline timer of its
	// own: a dial cut short at the end of a run must find parent.Err() set,
	// so that it is not counted as a failure.
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	stop := context.AfterFunc(parent, cancel)
	defer stop()
	d := net.Dialer{Timeout: o.timeout}
	nc, err := d.DialContext(ctx, "tcp", o.addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(o.addr)
	tcfg := &tls.Config{ServerName: host, InsecureSkipVerify: o.insecure}
	if o.tls {
		tc := tls.Client(nc, tcfg)
		tc.SetDeadline(time.Now().Add(o.timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("tls: %w", err)
		}
		nc = tc
	}
	c := &benchConn{nc: nc, timeout: o.timeout, caps: map[string]bool{}}
	c.r = bufio.NewReaderSize(nc, 16<<10)
	c.w = bufio.NewWriterSize(nc, 4<<10)
	c.nc.SetDeadline(time.Now().Add(o.timeout))
	if err := c.readLine(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	c.greet = string(c.head)
	if !bytes.HasPrefix(c.head, []byte("* OK")) && !bytes.HasPrefix(c.head, []byte("* PREAUTH")) {
		nc.Close()
		return nil, fmt.Errorf("greeting: %q", c.greet)
	}
	c.parseCaps(c.head)
	if o.starttls {
		if _, err := c.cmd("STARTTLS"); err != nil {
			nc.Close()
			return nil, err
		}
		tc := tls.Client(nc, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("starttls: %w", err)
		}
		c.nc = tc
		c.r.Reset(tc)
		c.w.Reset(tc)
		clear(c.caps)
	}
	return c, nil
}

func (c *benchConn) Close() error { return c.nc.Close() }

// parseCaps reads "* CAPABILITY ..." or a "[CAPABILITY ...]" code.
func (c *benchConn) parseCaps(line []byte) {
	s := string(line)
	i := strings.Index(strings.ToUpper(s), "CAPABILITY ")
	if i < 0 {
		return
	}
	s = s[i+len("CAPABILITY "):]
	if j := strings.IndexByte(s, ']'); j >= 0 {
		s = s[:j]
	}
	clear(c.caps)
	for _, f := range strings.Fields(s) {
		c.caps[strings.ToUpper(f)] = true
	}
}

// readLine reads one response line into c.head (its first 4 KiB),
// skipping the literals in it.
func (c *benchConn) readLine() error {
	c.head = c.head[:0]
	c.tail = c.tail[:0]
	for {
		seg, err := c.r.ReadSlice('\n')
		c.bytes += int64(len(seg))
		if n := min(len(seg), 4096-len(c.head)); n > 0 {
			c.head = append(c.head, seg[:n]...)
		}
		if err == bufio.ErrBufferFull {
			c.tail = append(c.tail[:0], seg[max(0, len(seg)-32):]...)
			continue
		}
		if err != nil {
			return err
		}
		end := seg
		if len(seg) < 32 && len(c.tail) > 0 {
			c.tail = append(c.tail, seg...)
			end = c.tail
		}
		c.tail = c.tail[:0]
		if n, ok := literalSize(end); ok {
			if _, err := c.r.Discard(int(n)); err != nil {
				return err
			}
			c.bytes += n
			continue
		}
		c.head = bytes.TrimRight(c.head, "\r\n")
		return nil
	}
}

// literalSize reports the size of the literal that a line ending in
// "{N}\r\n" or "{N+}\r\n" announces.
func literalSize(line []byte) (int64, bool) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	i := bytes.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	num := bytes.TrimSuffix(line[i+1:len(line)-1], []byte("+"))
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// untaggedNumber parses "* N WORD" and returns N and WORD.
func untaggedNumber(line []byte) (int, string) {
	if len(line) < 4 || line[0] != '*' || line[1] != ' ' {
		return -1, ""
	}
	rest := line[2:]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return -1, ""
	}
	n, err := strconv.Atoi(string(rest[:sp]))
	if err != nil {
		return -1, ""
	}
	word := rest[sp+1:]
	if j := bytes.IndexAny(word, " ("); j >= 0 {
		word = word[:j]
	}
	return n, strings.ToUpper(string(word))
}

func (c *benchConn) nextTag() string {
	c.tag++
	return "b" + strconv.Itoa(c.tag)
}

// cmd sends one command without literals and reads its responses.
func (c *benchConn) cmd(command string) (imapReply, error) {
	tag := c.nextTag()
	c.nc.SetDeadline(time.Now().Add(c.timeout))
	c.w.WriteString(tag)
	c.w.WriteByte(' ')
	c.w.WriteString(command)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return imapReply{}, err
	}
	return c.readReply(tag, command)
}

// readReply reads responses up to the tagged one.
func (c *benchConn) readReply(tag, command string) (imapReply, error) {
	rep := imapReply{exists: -1}
	for {
		if err := c.readLine(); err != nil {
			return rep, fmt.Errorf("%s: %w", cmdName(command), err)
		}
		line := c.head
		if len(line) > 0 && line[0] == '*' {
			n, word := untaggedNumber(line)
			switch word {
			case "FETCH":
				rep.fetches++
			case "EXISTS":
				rep.exists = n
			}
			if n < 0 && bytes.HasPrefix(bytes.ToUpper(line[:min(len(line), 16)]), []byte("* CAPABILITY ")) {
				c.parseCaps(line)
			}
			continue
		}
		if len(line) > 0 && line[0] == '+' {
			return rep, fmt.Errorf("%s: unexpected continuation %q", cmdName(command), line)
		}
		if !bytes.HasPrefix(line, []byte(tag+" ")) {
			continue // an untagged line without "*"? Ignore it.
		}
		rest := string(line[len(tag)+1:])
		status, text, _ := strings.Cut(rest, " ")
		rep.status = strings.ToUpper(status)
		rep.text = text
		if rep.status != "OK" {
			return rep, &imapStatusError{cmd: cmdName(command), status: rep.status, text: text}
		}
		if strings.HasPrefix(strings.ToUpper(text), "[CAPABILITY ") {
			c.parseCaps([]byte(text))
		}
		if up := strings.ToUpper(text); strings.HasPrefix(up, "[APPENDUID ") {
			f := strings.Fields(strings.TrimSuffix(strings.SplitN(text, "]", 2)[0], "]"))
			if len(f) >= 3 {
				if u, err := strconv.ParseUint(f[2], 10, 32); err == nil {
					rep.appendUID = uint32(u)
				}
			}
		}
		return rep, nil
	}
}

func cmdName(command string) string {
	name, rest, _ := strings.Cut(command, " ")
	if strings.EqualFold(name, "UID") {
		n2, _, _ := strings.Cut(rest, " ")
		return "UID " + n2
	}
	return name
}

// quote makes an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (c *benchConn) login(user, password string) error {
	_, err := c.cmd("LOGIN " + quote(user) + " " + quote(password))
	return err
}

// ensureCaps asks for CAPABILITY unless the server volunteered it.
func (c *benchConn) ensureCaps() error {
	if len(c.caps) > 0 {
		return nil
	}
	_, err := c.cmd("CAPABILITY")
	return err
}

// appendMsgs appends messages with one APPEND command (MULTIAPPEND when
// there are several), with LITERAL+ when the server has it.
func (c *benchConn) appendMsgs(mailbox string, msgs [][]byte, flags string) (imapReply, error) {
	tag := c.nextTag()
	c.nc.SetDeadline(time.Now().Add(c.timeout))
	nonSync := c.caps["LITERAL+"]
	c.w.WriteString(tag + " APPEND " + quote(mailbox))
	for _, m := range msgs {
		if flags != "" {
			c.w.WriteString(" (" + flags + ")")
		}
		if nonSync {
			fmt.Fprintf(c.w, " {%d+}\r\n", len(m))
		} else {
			fmt.Fprintf(c.w, " {%d}\r\n", len(m))
			if err := c.w.Flush(); err != nil {
				return imapReply{}, err
			}
			if err := c.readLine(); err != nil {
				return imapReply{}, fmt.Errorf("APPEND: %w", err)
			}
			if len(c.head) == 0 || c.head[0] != '+' {
				line := string(c.head)
				if strings.HasPrefix(line, tag+" ") {
					return imapReply{}, fmt.Errorf("APPEND: %s", strings.TrimPrefix(line, tag+" "))
				}
				return imapReply{}, fmt.Errorf("APPEND: expected continuation, got %q", line)
			}
		}
		c.w.Write(m)
	}
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return imapReply{}, err
	}
	return c.readReply(tag, "APPEND")
}

// seedMailbox appends messages until mailbox holds at least want; it
// returns how many it appended.
func seedMailbox(ctx context.Context, o *imapBenchOpts, user string, want int) (int, error) {
	if want <= 0 {
		return 0, nil
	}
	c, err := benchDial(ctx, o)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.login(user, o.password); err != nil {
		return 0, err
	}
	if err := c.ensureCaps(); err != nil {
		return 0, err
	}
	rep, err := c.cmd("EXAMINE " + quote(o.mailbox))
	if err != nil {
		return 0, err
	}
	have := max(rep.exists, 0)
	batch := 1
	if c.caps["MULTIAPPEND"] {
		batch = 50
	}
	added := 0
	for have+added < want {
		if err := ctx.Err(); err != nil {
			return added, err
		}
		n := min(batch, want-have-added)
		msgs := make([][]byte, n)
		for i := range msgs {
			msgs[i] = benchMessage(have + added + i)
		}
		if _, err := c.appendMsgs(o.mailbox, msgs, ""); err != nil {
			return added, fmt.Errorf("seed %s: %w", user, err)
		}
		added += n
	}
	c.cmd("LOGOUT")
	return added, nil
}

// seedUsers seeds the mailbox of each distinct user, a few at a time.
func seedUsers(ctx context.Context, o *imapBenchOpts, want int) (int, error) {
	if want <= 0 {
		return 0, nil
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		total int
	)
	sem := make(chan struct{}, 4)
	for u := range o.users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			n, err := seedMailbox(ctx, o, o.userName(u), want)
			mu.Lock()
			total += n
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total, first
}

// benchMessage returns message number k of a fixed, varied set: plain text,
// multipart/alternative, a message with an attachment, and one with encoded
// words and several recipients, so that ENVELOPE and BODYSTRUCTURE have
// some work to do.
func benchMessage(k int) []byte {
	rng := rand.New(rand.NewPCG(uint64(k), 0x1e77e7b0))
	var b bytes.Buffer
	date := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(k) * 17 * time.Minute)
	from := fmt.Sprintf("Sender %d <sender%d@example.org>", k%97, k%97)
	fmt.Fprintf(&b, "Received: from mx%d.example.org (mx%d.example.org [192.0.2.%d])\r\n\tby mail.example.com with ESMTPS id %08x\r\n\tfor <u@example.com>; %s\r\n",
		k%5, k%5, k%250+1, rng.Uint32(), date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Date: %s\r\nFrom: %s\r\n", date.Format(time.RFC1123Z), from)
	fmt.Fprintf(&b, "Message-ID: <%d.%08x@example.org>\r\n", k, rng.Uint32())
	if k%3 == 1 {
		fmt.Fprintf(&b, "In-Reply-To: <%d.0@example.org>\r\n", k-1)
	}
	words := []string{"quarterly", "report", "meeting", "lunch", "invoice", "draft", "review", "plan", "update", "notes", "Letterbox", "migration"}
	subj := words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))] + " " + strconv.Itoa(k)
	para := func(n int) string {
		var s strings.Builder
		for i := range n {
			if i > 0 && i%12 == 0 {
				s.WriteString("\r\n")
			} else if i > 0 {
				s.WriteByte(' ')
			}
			s.WriteString(words[rng.IntN(len(words))])
		}
		s.WriteString("\r\n")
		return s.String()
	}
	switch k % 4 {
	case 0:
		fmt.Fprintf(&b, "To: User <u@example.com>\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", subj)
		b.WriteString(para(200 + rng.IntN(400)))
	case 1:
		fmt.Fprintf(&b, "To: User <u@example.com>\r\nSubject: Re: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"alt-%d\"\r\n\r\n", subj, k)
		text := para(150 + rng.IntN(200))
		fmt.Fprintf(&b, "--alt-%d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", k, text)
		fmt.Fprintf(&b, "--alt-%d\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>%s</p></body></html>\r\n--alt-%d--\r\n", k, text, k)
	case 2:
		fmt.Fprintf(&b, "To: User <u@example.com>\r\nSubject: %s (attachment)\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"mix-%d\"\r\n\r\n", subj, k)
		fmt.Fprintf(&b, "--mix-%d\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n", k, para(80))
		fmt.Fprintf(&b, "--mix-%d\r\nContent-Type: application/pdf; name=\"report-%d.pdf\"\r\nContent-Disposition: attachment; filename=\"report-%d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", k, k, k)
		raw := make([]byte, 3000+rng.IntN(9000))
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		enc := make([]byte, 0, len(raw)*4/3+4)
		enc = appendBase64Lines(enc, raw)
		b.Write(enc)
		fmt.Fprintf(&b, "--mix-%d--\r\n", k)
	case 3:
		fmt.Fprintf(&b, "To: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.com>, u@example.com\r\nCc: \"Team, All\" <team@example.com>, ops@example.net\r\nReply-To: list@example.org\r\n")
		fmt.Fprintf(&b, "Subject: =?utf-8?b?w4RuZGVydW5nOiA=?= %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", subj)
		b.WriteString(para(100 + rng.IntN(300)))
	}
	return b.Bytes()
}

func appendBase64Lines(dst, raw []byte) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	col := 0
	for i := 0; i < len(raw); i += 3 {
		var v uint32
		n := min(3, len(raw)-i)
		for j := range 3 {
			v <<= 8
			if j < n {
				v |= uint32(raw[i+j])
			}
		}
		for j := range 4 {
			if j <= n {
				dst = append(dst, alphabet[(v>>(18-6*j))&63])
			} else {
				dst = append(dst, '=')
			}
		}
		col += 4
		if col == 76 {
			dst = append(dst, '\r', '\n')
			col = 0
		}
	}
	if col > 0 {
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// ---------------------------------------------------------------------------
// The mixed scenario.

func benchMixed(ctx context.Context, o *imapBenchOpts, res *imapBenchResult) error {
	o.logf("mixed: seeding %d users with %d messages each in %s", o.users, o.messages, o.mailbox)
	if _, err := seedUsers(ctx, o, o.messages); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	res.SeededPerUser = o.messages
	// The server's capabilities (LITERAL+, UIDPLUS), once.
	probe, err := benchDial(ctx, o)
	if err != nil {
		return err
	}
	if err := probe.login(o.userName(0), o.password); err != nil {
		probe.Close()
		return err
	}
	if err := probe.ensureCaps(); err != nil {
		probe.Close()
		return err
	}
	caps := probe.caps
	res.Server = probe.greet
	probe.cmd("LOGOUT")
	probe.Close()

	o.logf("mixed: %d clients for %s against %s", o.clients, o.duration, o.addr)
	runCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	recs := make([]*recorder, o.clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.clients {
		recs[i] = newRecorder()
		wg.Add(1)
		go func() {
			defer wg.Done()
			mixedClient(runCtx, o, i, caps, recs[i])
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	res.addCommands(recs, mixedOrder, elapsed)
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

// mixedClient runs cycles until ctx ends. A NO or BAD is counted and the
// cycle goes on where it can; a broken connection starts a new cycle.
func mixedClient(ctx context.Context, o *imapBenchOpts, i int, caps map[string]bool, rec *recorder) {
	rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
	user := o.userName(i)
	for cycle := 0; ctx.Err() == nil; cycle++ {
		if err := mixedCycle(ctx, o, user, cycle, caps, rng, rec); err != nil && ctx.Err() == nil {
			// Connection-level trouble: pause briefly so that a refusing
			// server is not hammered in a tight loop.
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

func mixedCycle(ctx context.Context, o *imapBenchOpts, user string, cycle int, caps map[string]bool, rng *rand.Rand, rec *recorder) error {
	t0 := time.Now()
	c, err := benchDial(ctx, o)
	if err != nil {
		if ctx.Err() == nil {
			rec.fail("connect", err)
		}
		return err
	}
	defer c.Close()
	// The deadline ends a command in flight when the run is over.
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Now()) })
	defer stop()
	rec.ok("connect", time.Since(t0))
	if len(c.caps) == 0 {
		c.caps = maps.Clone(caps)
	}

	// step runs one command and records it; it reports a connection error
	// (nil for NO and BAD, which are only counted).
	step := func(name string, f func() (imapReply, error)) (imapReply, bool, error) {
		if ctx.Err() != nil {
			return imapReply{}, false, ctx.Err()
		}
		ts := time.Now()
		rep, err := f()
		if ctx.Err() != nil {
			return rep, false, ctx.Err() // cut short by the end of the run: not counted
		}
		if err != nil {
			rec.fail(name, err)
			var se *imapStatusError
			if errors.As(err, &se) {
				return rep, false, nil
			}
			return rep, false, err
		}
		rec.ok(name, time.Since(ts))
		return rep, true, nil
	}
	cmd := func(command string) func() (imapReply, error) {
		return func() (imapReply, error) { return c.cmd(command) }
	}

	_, ok, err := step("LOGIN", func() (imapReply, error) {
		return imapReply{}, c.login(user, o.password)
	})
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("login refused")
	}
	sel, ok, err := step("SELECT", cmd("SELECT "+quote(o.mailbox)))
	if err != nil {
		return err
	}
	if ok {
		n := max(sel.exists, 0)
		if n > 0 {
			lo := max(1, n-9)
			if _, _, err := step("FETCH", cmd(fmt.Sprintf("FETCH %d:%d (UID FLAGS ENVELOPE)", lo, n))); err != nil {
				return err
			}
			if _, _, err := step("FETCH body", cmd(fmt.Sprintf("FETCH %d BODY.PEEK[]", 1+rng.IntN(n)))); err != nil {
				return err
			}
			flags := fmt.Sprintf("STORE %d +FLAGS (\\Seen \\Flagged)", 1+rng.IntN(n))
			if cycle%2 == 1 {
				flags = fmt.Sprintf("STORE %d -FLAGS (\\Flagged)", 1+rng.IntN(n))
			}
			if _, _, err := step("STORE", cmd(flags)); err != nil {
				return err
			}
		}
		msg := benchMessage(rng.IntN(1 << 20))
		app, ok, err := step("APPEND", func() (imapReply, error) {
			return c.appendMsgs(o.mailbox, [][]byte{msg}, "")
		})
		if err != nil {
			return err
		}
		if ok {
			// Mark the new message \Deleted: by its UID (UIDPLUS), else by
			// the sequence number the APPEND's EXISTS gave it.
			del := ""
			switch {
			case app.appendUID > 0:
				del = fmt.Sprintf("UID STORE %d +FLAGS.SILENT (\\Deleted)", app.appendUID)
			case app.exists > 0:
				del = fmt.Sprintf("STORE %d +FLAGS.SILENT (\\Deleted)", app.exists)
			}
			if del != "" {
				if _, _, err := step("STORE", cmd(del)); err != nil {
					return err
				}
			}
		}
		if _, _, err := step("EXPUNGE", cmd("EXPUNGE")); err != nil {
			return err
		}
	}
	if _, _, err := step("LOGOUT", cmd("LOGOUT")); err != nil {
		return err
	}
	if ctx.Err() == nil {
		rec.ok("cycle", time.Since(t0))
	}
	return nil
}

// ---------------------------------------------------------------------------
// The fetch scenario.

const fetchItems = "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)"

func benchFetch(ctx context.Context, o *imapBenchOpts, res *imapBenchResult) error {
	st := &imapFetchStats{}
	res.Fetch = st
	o.logf("fetch: making sure %s of %d users holds %d messages", o.mailbox, o.users, o.messages)
	t0 := time.Now()
	seeded, err := seedUsers(ctx, o, o.messages)
	st.Seeded = seeded
	st.SeedSeconds = time.Since(t0).Seconds()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if seeded > 0 {
		o.logf("fetch: appended %d messages in %.1f s", seeded, st.SeedSeconds)
	}
	o.logf("fetch: %d clients, FETCH 1:* %s for %s", o.clients, fetchItems, o.duration)

	type clientResult struct {
		first    time.Duration
		later    []time.Duration
		messages int
		bytes    int64
		fetches  int
		mismatch int
		errs     int
		firstErr error
		greet    string
	}
	results := make([]clientResult, o.clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(o.duration)
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			fail := func(err error) {
				r.errs++
				if r.firstErr == nil {
					r.firstErr = err
				}
			}
			c, err := benchDial(ctx, o)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			r.greet = c.greet
			if err := c.login(o.userName(i), o.password); err != nil {
				fail(err)
				return
			}
			sel, err := c.cmd("SELECT " + quote(o.mailbox))
			if err != nil {
				fail(err)
				return
			}
			r.messages = max(sel.exists, 0)
			// At least one later fetch, at most 1000; otherwise until
			// the duration is over.
			for n := 0; n < 1001; n++ {
				if ctx.Err() != nil || (n >= 2 && time.Now().After(deadline)) {
					break
				}
				b0 := c.bytes
				ts := time.Now()
				rep, err := c.cmd("FETCH 1:* " + fetchItems)
				d := time.Since(ts)
				if err != nil {
					fail(err)
					var se *imapStatusError
					if !errors.As(err, &se) {
						return
					}
					if n == 0 {
						return // no point repeating a FETCH the server refuses
					}
					continue
				}
				if rep.exists >= 0 {
					r.messages = rep.exists
				}
				if rep.fetches != r.messages {
					r.mismatch++
				}
				r.bytes += c.bytes - b0
				r.fetches++
				if n == 0 {
					r.first = d
				} else {
					r.later = append(r.later, d)
				}
			}
			c.cmd("LOGOUT")
		}()
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()

	var firsts, later []time.Duration
	var bytesTotal int64
	fetches := 0
	for _, r := range results {
		if r.fetches > 0 {
			firsts = append(firsts, r.first)
		}
		later = append(later, r.later...)
		bytesTotal += r.bytes
		fetches += r.fetches
		st.Mismatches += r.mismatch
		st.Errors += r.errs
		if st.FirstErr == "" && r.firstErr != nil {
			st.FirstErr = r.firstErr.Error()
		}
		st.Messages = max(st.Messages, r.messages)
		if res.Server == "" {
			res.Server = r.greet
		}
	}
	slices.Sort(later)
	st.FirstMs = ms(median(firsts))
	st.Later = len(later)
	if len(later) > 0 {
		m := median(later)
		st.LaterMedianMs = ms(m)
		st.LaterMinMs = ms(later[0])
		st.LaterP90Ms = ms(percentile(later, 0.9))
		st.LaterMaxMs = ms(later[len(later)-1])
		if m > 0 {
			st.MsgsPerS = float64(st.Messages) / m.Seconds()
		}
	}
	if fetches > 0 {
		st.BytesPerFetch = bytesTotal / int64(fetches)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if fetches == 0 && st.FirstErr != "" {
		return fmt.Errorf("no FETCH succeeded: %s", st.FirstErr)
	}
	return nil
}

// ---------------------------------------------------------------------------
// The idle scenario.

// idler is one connection held in IDLE; a goroutine reads its responses
// and stamps the time of each EXISTS.
type idler struct {
	c      *benchConn
	user   int // index of its user
	exists atomic.Int64
	seen   atomic.Int64 // UnixNano of the last EXISTS
	lost   atomic.Bool
	done   chan struct{}
}

func (d *idler) read() {
	defer close(d.done)
	d.c.nc.SetDeadline(time.Time{})
	for {
		if err := d.c.readLine(); err != nil {
			d.lost.Store(true)
			return
		}
		if n, word := untaggedNumber(d.c.head); word == "EXISTS" {
			d.seen.Store(time.Now().UnixNano())
			d.exists.Store(int64(n))
		}
	}
}

func benchIdle(ctx context.Context, o *imapBenchOpts, res *imapBenchResult, pids []int) error {
	st := &imapIdleStats{Requested: o.clients, PIDs: pids}
	res.Idle = st
	if o.messages > 0 {
		if _, err := seedUsers(ctx, o, o.messages); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if len(pids) > 0 {
		m := procMemory(pids)
		st.RSSBaseKB, st.PSSBaseKB, st.Procs = m.rss, m.pss, m.procs
	}

	// Peak memory, sampled until the end.
	var peakMu sync.Mutex
	var peak procMem
	sampleDone := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampleDone)
		if len(pids) == 0 {
			return
		}
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			m := procMemory(pids)
			peakMu.Lock()
			if m.rss > peak.rss {
				peak.rss = m.rss
			}
			peak.pss = max(peak.pss, m.pss)
			peak.procs = max(peak.procs, m.procs)
			peakMu.Unlock()
			select {
			case <-t.C:
			case <-stopSampling:
				return
			}
		}
	}()

	o.logf("idle: opening %d connections to %s (%d at a time)", o.clients, o.addr, o.dialParallel)
	idlers := make([]*idler, o.clients)
	setup := make([]time.Duration, o.clients)
	var (
		wg       sync.WaitGroup
		failMu   sync.Mutex
		failed   int
		firstErr error
		held     atomic.Int64
	)
	sem := make(chan struct{}, o.dialParallel)
	start := time.Now()
	for i := range o.clients {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t0 := time.Now()
			d, err := openIdler(ctx, o, i)
			if err != nil {
				failMu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				failMu.Unlock()
				return
			}
			setup[i] = time.Since(t0)
			idlers[i] = d
			if n := held.Add(1); n%1000 == 0 {
				o.logf("idle: %d connections in IDLE", n)
			}
		}()
	}
	wg.Wait()
	st.SetupSeconds = time.Since(start).Seconds()
	st.Failed = failed
	if firstErr != nil {
		st.FirstErr = firstErr.Error()
	}
	var setups []time.Duration
	var live []*idler
	for i, d := range idlers {
		if d != nil {
			live = append(live, d)
			setups = append(setups, setup[i])
		}
	}
	slices.Sort(setups)
	st.Held = len(live)
	st.SetupP50ms = ms(percentile(setups, 0.5))
	st.SetupP99ms = ms(percentile(setups, 0.99))
	defer func() {
		for _, d := range live {
			d.c.w.WriteString("DONE\r\nz LOGOUT\r\n")
			d.c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			d.c.w.Flush()
			d.c.Close()
		}
		for _, d := range live {
			<-d.done
		}
	}()
	o.logf("idle: %d of %d connections in IDLE after %.1f s (%d failed); holding for %s",
		st.Held, o.clients, st.SetupSeconds, failed, o.duration)
	if len(pids) > 0 {
		time.Sleep(500 * time.Millisecond) // let the server settle
		m := procMemory(pids)
		st.RSSHeldKB = m.rss
	}

	holdCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	if o.wake > 0 && len(live) > 0 {
		if err := idleWakeups(holdCtx, o, live, st); err != nil {
			o.logf("idle: wake-up measurement: %v", err)
			if st.FirstErr == "" {
				st.FirstErr = "wake-up: " + err.Error()
			}
		}
	}
	<-holdCtx.Done()
	res.Seconds = o.duration.Seconds()
	close(stopSampling)
	<-sampleDone
	if len(pids) > 0 {
		m := procMemory(pids)
		st.RSSEndKB, st.PSSEndKB = m.rss, m.pss
		st.RSSPeakKB, st.PSSPeakKB = max(peak.rss, m.rss), max(peak.pss, m.pss)
	}
	for _, d := range live {
		if d.lost.Load() {
			st.LostDuring++
		}
	}
	if len(pids) > 0 {
		st.Procs = max(peak.procs, st.Procs)
		if st.Held > 0 {
			st.KBPerConn = float64(st.PSSPeakKB-st.PSSBaseKB) / float64(st.Held)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if st.Held == 0 {
		return fmt.Errorf("no connection reached IDLE: %s", st.FirstErr)
	}
	return nil
}

func openIdler(ctx context.Context, o *imapBenchOpts, i int) (*idler, error) {
	c, err := benchDial(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := c.login(o.userName(i), o.password); err != nil {
		c.Close()
		return nil, err
	}
	sel, err := c.cmd("SELECT " + quote(o.mailbox))
	if err != nil {
		c.Close()
		return nil, err
	}
	tag := c.nextTag()
	c.w.WriteString(tag + " IDLE\r\n")
	if err := c.w.Flush(); err != nil {
		c.Close()
		return nil, err
	}
	for {
		if err := c.readLine(); err != nil {
			c.Close()
			return nil, fmt.Errorf("IDLE: %w", err)
		}
		if len(c.head) > 0 && c.head[0] == '+' {
			break
		}
		if bytes.HasPrefix(c.head, []byte(tag+" ")) {
			c.Close()
			return nil, fmt.Errorf("IDLE: %s", c.head[len(tag)+1:])
		}
	}
	// Shrink what the client holds per connection: 10,000 idlers.
	if c.r.Buffered() == 0 {
		c.r = bufio.NewReaderSize(c.nc, 1024)
	}
	c.w = bufio.NewWriterSize(c.nc, 64)
	d := &idler{c: c, user: i % o.users, done: make(chan struct{})}
	d.exists.Store(int64(max(sel.exists, 0)))
	go d.read()
	return d, nil
}

// idleWakeups appends messages to the mailbox of the first idler's user
// from an extra connection and times the EXISTS on that user's idlers.
func idleWakeups(ctx context.Context, o *imapBenchOpts, live []*idler, st *imapIdleStats) error {
	target := live[0].user
	var watchers []*idler
	for _, d := range live {
		if d.user == target {
			watchers = append(watchers, d)
		}
	}
	c, err := benchDial(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.login(o.userName(target), o.password); err != nil {
		return err
	}
	if err := c.ensureCaps(); err != nil {
		return err
	}
	// Spread the rounds over the hold; wait at most one round's share for
	// the EXISTS (and never more than 35 s): a server that only polls
	// (Dovecot without inotify: every 30 s) shows up as late or missed
	// wake-ups.
	deadline, _ := ctx.Deadline()
	const settle = 500 * time.Millisecond
	window := time.Until(deadline)/time.Duration(o.wake) - settle
	window = min(max(window, time.Second), 35*time.Second)
	st.WakeWindowSec = window.Seconds()
	var lat, appendLat []time.Duration
	defer func() {
		slices.Sort(lat)
		st.WakeP50ms = ms(percentile(lat, 0.5))
		st.WakeP90ms = ms(percentile(lat, 0.9))
		if len(lat) > 0 {
			st.WakeMaxMs = ms(lat[len(lat)-1])
		}
		st.WakeAppendMs = ms(median(appendLat))
	}()
	for round := 0; round < o.wake; round++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(settle):
		}
		before := make([]int64, len(watchers))
		for i, d := range watchers {
			before[i] = d.seen.Load()
		}
		t0 := time.Now()
		if _, err := c.appendMsgs(o.mailbox, [][]byte{benchMessage(1_000_000 + round)}, ""); err != nil {
			return err
		}
		appendLat = append(appendLat, time.Since(t0))
		st.WakeRounds++
		st.WakeExpected += len(watchers)
		woke := make([]bool, len(watchers))
		until := t0.Add(window)
		for time.Now().Before(until) {
			all := true
			for i, d := range watchers {
				if woke[i] || d.lost.Load() {
					continue
				}
				if s := d.seen.Load(); s != before[i] {
					woke[i] = true
					lat = append(lat, time.Duration(s-t0.UnixNano()))
					continue
				}
				all = false
			}
			if all {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		for _, w := range woke {
			if w {
				st.WakeReceived++
			}
		}
	}
	c.cmd("LOGOUT")
	return nil
}

// ---------------------------------------------------------------------------
// Server memory from /proc.

type procMem struct {
	rss, pss int64 // KiB
	procs    int
}

func parsePIDs(s string) ([]int, error) {
	var pids []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := strconv.Atoi(f)
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("bad -pid %q", f)
		}
		pids = append(pids, p)
	}
	return pids, nil
}

// procMemory sums VmRSS (from /proc/PID/status) and Pss (from
// /proc/PID/smaps_rollup) over pids and all their descendants. RSS counts
// pages shared between processes once per process; PSS divides them.
func procMemory(pids []int) procMem {
	all := slices.Clone(pids)
	if children := procChildren(); len(children) > 0 {
		for i := 0; i < len(all); i++ {
			all = append(all, children[all[i]]...)
		}
	}
	var m procMem
	for _, p := range all {
		rss := procField(fmt.Sprintf("/proc/%d/status", p), "VmRSS:")
		if rss < 0 {
			continue
		}
		m.procs++
		m.rss += rss
		if pss := procField(fmt.Sprintf("/proc/%d/smaps_rollup", p), "Pss:"); pss > 0 {
			m.pss += pss
		} else {
			m.pss += rss
		}
	}
	return m
}

// procChildren maps each PID to its children.
func procChildren() map[int][]int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	return children
}

// procField returns the kB value of a "Name:   123 kB" line, or -1.
func procField(path, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return v
				}
			}
		}
	}
	return -1
}
