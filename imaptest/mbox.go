package imaptest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// mboxMessage is one message of an mbox file, as imaptest appends it: the
// lines after its From_ line up to the next From_ line (the blank separator
// line included), with every LF made CRLF, and the From_ line's time as its
// INTERNALDATE.
type mboxMessage struct {
	data []byte
	date time.Time
}

var (
	mboxCacheMu sync.Mutex
	mboxCache   = map[string][]mboxMessage{}
)

// loadMbox reads and splits an mbox file (cached: scripts share default.mbox).
func loadMbox(path string) ([]mboxMessage, error) {
	mboxCacheMu.Lock()
	defer mboxCacheMu.Unlock()
	if msgs, ok := mboxCache[path]; ok {
		return msgs, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	msgs, err := splitMbox(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	mboxCache[path] = msgs
	return msgs, nil
}

func splitMbox(data []byte) ([]mboxMessage, error) {
	var msgs []mboxMessage
	var cur *mboxMessage
	start := 0
	flush := func(end int) {
		if cur != nil {
			cur.data = toCRLF(data[start:end])
			msgs = append(msgs, *cur)
		}
	}
	for off := 0; off < len(data); {
		nl := bytes.IndexByte(data[off:], '\n')
		end := len(data)
		next := len(data)
		if nl >= 0 {
			end = off + nl
			next = end + 1
		}
		line := strings.TrimSuffix(string(data[off:end]), "\r")
		if strings.HasPrefix(line, "From ") {
			if t, ok := parseFromLine(line[5:]); ok {
				// A From_ line right after another one (an empty body) is
				// skipped, as imaptest does.
				if cur == nil || start != off {
					flush(off)
					cur = &mboxMessage{date: t}
				}
				off = next
				start = off
				continue
			}
		}
		if cur == nil {
			return nil, fmt.Errorf("not a valid mbox file: no From_ line at the start")
		}
		off = next
	}
	if cur == nil {
		return nil, fmt.Errorf("empty mbox file")
	}
	if start == len(data) {
		return nil, fmt.Errorf("mbox file ends with a From_ line")
	}
	flush(len(data))
	return msgs, nil
}

// toCRLF turns every LF not already preceded by CR into CRLF.
func toCRLF(b []byte) []byte {
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte("\n")))
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

var monthNames = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func parseMonth(s string) (time.Month, bool) {
	if len(s) < 4 || s[3] != ' ' {
		return 0, false
	}
	for i, m := range monthNames {
		if strings.EqualFold(m, s[:3]) {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

func digits(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// parseFromLine parses what follows "From " on an mbox From_ line:
// "sender  Www Mmm dd hh:mm[:ss] [tz] yyyy [+hhmm]" (asctime), or the
// alternative "Www, d Mmm yyyy hh:mm:ss". Without a numeric zone the time is
// local, as with Dovecot's parser.
func parseFromLine(s string) (time.Time, bool) {
	i := 0
	if i < len(s) && s[i] == '"' {
		esc := false
		i++
		for i < len(s) && (s[i] != '"' || esc) {
			esc = s[i] == '\\'
			i++
		}
		i++
	}
	for i < len(s) && s[i] != ' ' {
		i++
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i+21 > len(s) {
		return time.Time{}, false
	}
	m := s[i:] + "\x00\x00\x00\x00\x00\x00\x00\x00" // room for look-ahead
	m = m[4:]                                       // weekday
	var day, year, hour, min, sec int
	var month time.Month
	var ok bool
	alt := false
	if month, ok = parseMonth(m); !ok {
		alt = true
		m = m[1:]
		if day, ok = digits(m, 1); !ok {
			return time.Time{}, false
		}
		m = m[1:]
		if d, ok := digits(m, 1); ok {
			day = day*10 + d
			m = m[1:]
		}
		if m[0] != ' ' {
			return time.Time{}, false
		}
		m = m[1:]
		if month, ok = parseMonth(m); !ok {
			return time.Time{}, false
		}
		m = m[4:]
		if year, ok = digits(m, 4); !ok {
			return time.Time{}, false
		}
		m = m[5:]
	} else {
		m = m[4:]
		if m[0] == ' ' {
			m = m[1:]
		}
		if m[1] == ' ' {
			if day, ok = digits(m, 1); !ok {
				return time.Time{}, false
			}
			m = m[2:]
		} else {
			if day, ok = digits(m, 2); !ok || m[2] != ' ' {
				return time.Time{}, false
			}
			m = m[3:]
		}
	}
	if day == 0 {
		day = 1
	}
	if hour, ok = digits(m, 2); !ok || m[2] != ':' {
		return time.Time{}, false
	}
	m = m[3:]
	if min, ok = digits(m, 2); !ok {
		return time.Time{}, false
	}
	m = m[2:]
	if m[0] == ':' {
		if sec, ok = digits(m[1:], 2); !ok {
			return time.Time{}, false
		}
		m = m[3:]
		if !alt {
			if m[0] != ' ' {
				return time.Time{}, false
			}
			m = m[1:]
		}
	} else if !alt {
		if m[0] != ' ' {
			return time.Time{}, false
		}
		m = m[1:]
	}
	zone, haveZone := 0, false
	numericZone := func(z string) (int, bool) {
		if len(z) < 5 || (z[0] != '+' && z[0] != '-') {
			return 0, false
		}
		h, ok1 := digits(z[1:], 2)
		mm, ok2 := digits(z[3:], 2)
		if !ok1 || !ok2 {
			return 0, false
		}
		secs := h*3600 + mm*60
		if z[0] == '-' {
			secs = -secs
		}
		return secs, true
	}
	if !alt {
		if _, ok := digits(m, 4); !ok {
			// a zone name or number before the year
			if z, ok := numericZone(m); ok && m[5] == ' ' {
				zone, haveZone = z, true
				m = m[6:]
			} else {
				j := strings.IndexByte(m, ' ')
				if j < 0 || j+5 > len(strings.TrimRight(m, "\x00")) {
					return time.Time{}, false
				}
				m = m[j+1:]
			}
		}
		if year, ok = digits(m, 4); !ok {
			return time.Time{}, false
		}
		m = m[4:]
	}
	if !haveZone && m[0] == ' ' {
		if z, ok := numericZone(m[1:]); ok {
			zone, haveZone = z, true
		}
	}
	loc := time.Local
	if haveZone {
		loc = time.FixedZone("", zone)
	}
	return time.Date(year, month, day, hour, min, sec, 0, loc), true
}

// mboxSource hands out a script's messages in order, starting again at the
// first after the last, like imaptest's mailbox source.
type mboxSource struct {
	msgs []mboxMessage
	next int
}

func (s *mboxSource) eof() bool { return s.next >= len(s.msgs) }

func (s *mboxSource) get() mboxMessage {
	if s.next >= len(s.msgs) {
		s.next = 0
	}
	m := s.msgs[s.next]
	s.next++
	return m
}
