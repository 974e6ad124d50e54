package message

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The golden test compares our RFC822.SIZE, BODY, BODYSTRUCTURE and
// ENVELOPE with Dovecot 2.3.19's answers for the imaptest mboxes and the
// Pigeonhole test messages (see conformance/README.md). Accepted
// differences are listed in testdata/message/EXPECTED.md, one line each:
//
//	- SOURCE#INDEX FIELD: reason
//
// Any other difference fails, and so does a listed one that no longer
// differs (so the list stays true).

// conformanceDir finds the shared conformance folder: $LETTERBOX_CONFORMANCE,
// else ../shared/conformance beside the repository root.
func conformanceDir(t testing.TB) string {
	if d := os.Getenv("LETTERBOX_CONFORMANCE"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "conformance")
			if _, err := os.Stat(d); err == nil {
				return d
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

type reference struct {
	Source        string `json:"source"`
	Index         int    `json:"index"`
	Skipped       string `json:"skipped"`
	SHA1          string `json:"sha1_crlf"`
	Size          int64  `json:"rfc822_size"`
	Body          string `json:"body"`
	BodyStructure string `json:"bodystructure"`
	Envelope      string `json:"envelope"`
}

// splitMbox splits an mbox file as the reference generator did: on "From "
// lines, dropping the LF before them, keeping ">From " lines as they are
// (imaptest appends the messages without unescaping), and dropping empty
// messages.
func splitMbox(data []byte) [][]byte {
	var msgs [][]byte
	var cur []byte
	flush := func() {
		if len(bytes.TrimSpace(cur)) > 0 {
			msgs = append(msgs, cur)
		}
		cur = nil
	}
	first := true
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		if bytes.HasPrefix(line, []byte("From ")) && bytes.HasSuffix(line, []byte("\n")) {
			if !first {
				cur = bytes.TrimSuffix(cur, []byte("\n"))
			}
			flush()
			first = false
			continue
		}
		cur = append(cur, line...)
	}
	flush()
	return msgs
}

var crlfRE = regexp.MustCompile(`\r?\n`)

func toCRLF(b []byte) []byte { return crlfRE.ReplaceAll(b, []byte("\r\n")) }

type expectedDiff struct {
	reason string
	seen   bool
}

var expectedRE = regexp.MustCompile(`^- (\S+)#(\d+) (size|body|bodystructure|envelope): (.+)$`)

func loadExpected(t *testing.T) map[string]*expectedDiff {
	f, err := os.Open(filepath.Join("..", "testdata", "message", "EXPECTED.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]*expectedDiff{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if g := expectedRE.FindStringSubmatch(sc.Text()); g != nil {
			m[g[1]+"#"+g[2]+" "+g[3]] = &expectedDiff{reason: g[4]}
		}
	}
	return m
}

func TestGoldenDovecot(t *testing.T) {
	dir := conformanceDir(t)
	if dir == "" {
		t.Skip("conformance folder not found: set LETTERBOX_CONFORMANCE to the shared conformance folder")
	}
	refDir := filepath.Join(dir, "dovecot-reference")
	if _, err := os.Stat(refDir); err != nil {
		t.Skipf("no Dovecot reference answers in %s: %v", dir, err)
	}
	expected := loadExpected(t)
	verbose := os.Getenv("LETTERBOX_GOLDEN_VERBOSE") != ""

	mboxes := map[string][][]byte{}
	message := func(src string, index int) []byte {
		if strings.HasSuffix(src, ".mbox") {
			msgs, ok := mboxes[src]
			if !ok {
				data, err := os.ReadFile(filepath.Join(dir, "imaptest", "tests", src))
				if err != nil {
					t.Fatal(err)
				}
				msgs = splitMbox(data)
				mboxes[src] = msgs
			}
			if index > len(msgs) {
				t.Fatalf("%s has %d messages, reference wants #%d", src, len(msgs), index)
			}
			return toCRLF(msgs[index-1])
		}
		data, err := os.ReadFile(filepath.Join(dir, "pigeonhole", "messages", src))
		if err != nil {
			t.Fatal(err)
		}
		return toCRLF(data)
	}

	total, matched := 0, 0
	for _, name := range []string{"imaptest-mbox.dovecot-2.3.19.jsonl", "pigeonhole-messages.dovecot-2.3.19.jsonl"} {
		f, err := os.Open(filepath.Join(refDir, name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var ref reference
			if err := json.Unmarshal(sc.Bytes(), &ref); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			total++
			key := ref.Source + "#" + strconv.Itoa(ref.Index)
			if ref.Skipped != "" {
				// No answer to compare with; still, it must parse.
				if e := expected[key+" size"]; e != nil {
					e.seen = true
				} else {
					t.Errorf("%s: Dovecot skipped it (%s), and EXPECTED.md does not list it", key, ref.Skipped)
				}
				continue
			}
			msg := message(ref.Source, ref.Index)
			sum := sha1.Sum(msg)
			if hex.EncodeToString(sum[:]) != ref.SHA1 {
				t.Errorf("%s: extracted message does not match the reference's SHA-1", key)
				continue
			}
			p, err := Parse(bytes.NewReader(msg))
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			got := map[string]string{
				"size":          strconv.FormatInt(p.Size, 10),
				"body":          string(p.AppendBodyStructure(nil, false)),
				"bodystructure": string(p.AppendBodyStructure(nil, true)),
				"envelope":      string(p.AppendEnvelope(nil)),
			}
			want := map[string]string{
				"size":          strconv.FormatInt(ref.Size, 10),
				"body":          ref.Body,
				"bodystructure": ref.BodyStructure,
				"envelope":      ref.Envelope,
			}
			ok := true
			for _, field := range []string{"size", "body", "bodystructure", "envelope"} {
				e := expected[key+" "+field]
				if got[field] == want[field] {
					continue
				}
				ok = false
				if e != nil {
					e.seen = true
					if verbose {
						t.Logf("%s %s (expected: %s):\n got: %q\nwant: %q", key, field, e.reason, got[field], want[field])
					}
					continue
				}
				t.Errorf("%s %s differs from Dovecot:\n got: %.600q\nwant: %.600q", key, field, got[field], want[field])
			}
			if ok {
				matched++
			}
		}
		f.Close()
	}
	for k, e := range expected {
		if !e.seen {
			t.Errorf("%s: listed in EXPECTED.md, but it matches Dovecot (or is not in the reference)", k)
		}
	}
	t.Logf("%d of %d messages match Dovecot in all four items", matched, total)
}
