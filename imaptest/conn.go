package imaptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxResponse bounds one server response (line plus literals).
const maxResponse = 64 << 20

type respKind int

const (
	respUntagged respKind = iota
	respTagged
	respContinue
)

// response is one server response: "* …", "TAG …" or "+ …".
type response struct {
	kind respKind
	tag  string
	args []arg // after "*", the tag or "+"
	raw  []byte
}

// pendingCmd is a command sent and not yet answered.
type pendingCmd struct {
	tag       string
	text      string // as sent, for messages (literals abbreviated)
	shown     string // as logged (text, or with the password hidden)
	sendErr   error
	expectBad bool
	done      bool
	status    string // OK, NO or BAD
	args      []arg  // the tagged reply after the tag
	onReply   func(p *pendingCmd) error
	script    *command // nil for the runner's own commands
	// the command closes the mailbox / logs in (for the connection state)
	closes, login bool
}

// conn is one client connection of a script run.
type conn struct {
	idx     int // 0-based
	nc      net.Conn
	r       *bufio.Reader
	timeout time.Duration
	tagN    int

	caps      []string
	postLogin bool // caps were read after login
	loggedIn  bool
	// count is the number of messages in the selected mailbox as this
	// connection has been told (EXISTS, EXPUNGE).
	count uint32
	// box is the mailbox imaptest's bare APPEND goes to: the test mailbox,
	// then the last one SELECTed or EXAMINEd.
	box string

	seenBye    bool
	logoutSent bool // the current command group logs out
	closed     bool

	pending []*pendingCmd
	// waitCont is set while a synchronising literal waits for "+".
	waitCont, gotCont bool

	log func(dir byte, c *conn, b []byte)
}

func (c *conn) nextTag() string {
	c.tagN++
	return strconv.Itoa(c.idx+1) + "." + strconv.Itoa(c.tagN)
}

func (c *conn) hasCap(name string) bool {
	for _, k := range c.caps {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func (c *conn) write(b []byte) error {
	return c.writeLogged(b, b)
}

// writeLogged writes b and puts shown in the transcript instead (to keep a
// password out of it).
func (c *conn) writeLogged(b, shown []byte) error {
	if c.closed {
		return errors.New("connection closed")
	}
	if c.log != nil {
		c.log('>', c, shown)
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.nc.Write(b)
	return err
}

// literalAtEnd reports whether line (without its line break) ends with a
// literal's size, "{N}", "{N+}" or "~{N}", starting an argument.
func literalAtEnd(line []byte) (int, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	end := len(line) - 1
	if line[end-1] == '+' {
		end--
	}
	start := end
	for start > 0 && line[start-1] >= '0' && line[start-1] <= '9' {
		start--
	}
	if start == end || start == 0 || line[start-1] != '{' {
		return 0, false
	}
	brace := start - 1
	if brace > 0 && line[brace-1] == '~' {
		brace--
	}
	if brace > 0 && line[brace-1] != ' ' && line[brace-1] != '(' {
		return 0, false
	}
	n, err := strconv.Atoi(string(line[start:end]))
	if err != nil || n > maxResponse {
		return 0, false
	}
	return n, true
}

// readResponse reads one response, literals included.
func (c *conn) readResponse() (*response, error) {
	if c.closed {
		return nil, io.EOF
	}
	var buf []byte
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.timeout))
		line, err := c.r.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) && len(buf)+len(line) < maxResponse {
			buf = append(buf, line...)
			line, err = c.r.ReadSlice('\n')
		}
		buf = append(buf, line...)
		if err != nil {
			if len(buf) > 0 && errors.Is(err, io.EOF) {
				err = fmt.Errorf("connection closed in the middle of a response: %q", buf)
			}
			return nil, err
		}
		if len(buf) > maxResponse {
			return nil, fmt.Errorf("response longer than %d bytes", maxResponse)
		}
		body := bytes.TrimRight(line, "\r\n")
		n, ok := literalAtEnd(body)
		if !ok {
			break
		}
		if len(buf)+n > maxResponse {
			return nil, fmt.Errorf("response longer than %d bytes", maxResponse)
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(c.r, lit); err != nil {
			return nil, fmt.Errorf("reading a %d byte literal: %w", n, err)
		}
		buf = append(buf, lit...)
	}
	if c.log != nil {
		c.log('<', c, buf)
	}
	return parseResponse(buf)
}

var statusWords = map[string]bool{"OK": true, "NO": true, "BAD": true, "BYE": true, "PREAUTH": true}

func parseResponse(raw []byte) (*response, error) {
	line := raw
	if bytes.HasSuffix(line, []byte("\r\n")) {
		line = line[:len(line)-2]
	} else if bytes.HasSuffix(line, []byte("\n")) {
		line = line[:len(line)-1]
	}
	first, rest, _ := cutWord(line)
	r := &response{raw: line}
	status := false
	switch string(first) {
	case "+":
		r.kind = respContinue
		return r, nil
	case "*":
		r.kind = respUntagged
		w, _, _ := cutWord(rest)
		status = statusWords[strings.ToUpper(string(w))]
	default:
		if len(first) == 0 {
			return nil, fmt.Errorf("response without a tag: %q", raw)
		}
		r.kind = respTagged
		r.tag = string(first)
		status = true
	}
	args, err := parseArgs(rest, 0)
	if err != nil && status {
		// Human-readable text may hold anything; read it leniently.
		args, err = parseArgs(rest, parseLenient)
	}
	if err != nil {
		return nil, fmt.Errorf("unparsable response %q: %w", line, err)
	}
	r.args = args
	return r, nil
}

// respCode returns the response code of a status response's arguments
// (after OK/NO/BAD/BYE): its name upper-cased and the text up to ']'.
func respCode(args []arg) (name, value string) {
	if len(args) < 2 {
		return "", ""
	}
	s, ok := args[1].atom()
	if !ok || !strings.HasPrefix(s, "[") {
		return "", ""
	}
	name = strings.ToUpper(strings.TrimSuffix(s[1:], "]"))
	if strings.HasSuffix(s, "]") {
		return name, ""
	}
	value = formatArgs(args[2:])
	if i := strings.IndexByte(value, ']'); i >= 0 {
		value = value[:i]
	}
	return name, value
}

// abbreviate renders protocol bytes for a transcript: CRLF becomes a line
// break, long literals are shortened, control bytes are escaped.
func abbreviate(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		var line []byte
		if i < 0 {
			line, b = b, nil
		} else {
			line, b = b[:i+1], b[i+1:]
		}
		body := bytes.TrimRight(line, "\r\n")
		sb.WriteString(escapeBytes(body))
		if n, ok := literalAtEnd(body); ok && n <= len(b) {
			lit := b[:n]
			b = b[n:]
			if n > 200 {
				sb.WriteString(escapeBytes(lit[:160]))
				fmt.Fprintf(&sb, "…(%d more bytes)…", n-160)
			} else {
				sb.WriteString(escapeBytes(lit))
			}
			continue
		}
		if len(b) > 0 {
			sb.WriteString("\n")
		}
	}
	return sb.String()
}

func escapeBytes(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		c := b[0]
		switch {
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c < 0x20 || c == 0x7f || (r == utf8.RuneError && size == 1):
			fmt.Fprintf(&sb, `\x%02x`, c)
		default:
			sb.Write(b[:size])
		}
		b = b[size:]
	}
	return sb.String()
}
