package imaptest

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jsonTest is one script of imaptest-tests.json, the shared, independently
// parsed copy of the scripts.
type jsonTest struct {
	Name                string          `json:"name"`
	Capabilities        []string        `json:"capabilities"`
	Connections         int             `json:"connections"`
	Messages            json.RawMessage `json:"messages"`
	State               string          `json:"state"`
	IgnoreExtraUntagged bool            `json:"ignore_extra_untagged"`
	Mbox                string          `json:"mbox"`
	BannerCheck         bool            `json:"banner_check"`
	Groups              []struct {
		Connection int  `json:"connection"`
		Implicit   bool `json:"implicit"`
		Commands   []struct {
			Tag          int     `json:"tag"`
			Command      string  `json:"command"`
			CommandB64   string  `json:"command_b64"`
			Expect       *string `json:"expect"`
			ExpectPrefix string  `json:"expect_prefix"`
		} `json:"commands"`
		Untagged []struct {
			Existence string `json:"existence"`
			Text      string `json:"text"`
			B64       string `json:"b64"`
		} `json:"untagged"`
	} `json:"groups"`
}

func jsonBytes(text, b64 string) string {
	if b64 != "" {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err == nil {
			return string(b)
		}
	}
	return text
}

// TestParseMatchesJSON checks the script parser against imaptest-tests.json.
func TestParseMatchesJSON(t *testing.T) {
	dir := Dir(t)
	data, err := os.ReadFile(filepath.Join(dir, "imaptest-tests.json"))
	if err != nil {
		t.Skip(err)
	}
	var want []jsonTest
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	scripts, err := LoadScripts(filepath.Join(dir, "tests"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Script{}
	for _, s := range scripts {
		byName[s.Name] = s
	}
	if len(scripts) != len(want) {
		t.Errorf("parsed %d scripts, JSON has %d", len(scripts), len(want))
	}
	existence := map[string]existence{"must": mustExist, "must_not": mustNotExist, "may": mayExist}
	for _, w := range want {
		s := byName[w.Name]
		if s == nil {
			t.Errorf("%s: not parsed", w.Name)
			continue
		}
		msgs := 0
		if string(w.Messages) == `"all"` {
			msgs = AllMessages
		} else if err := json.Unmarshal(w.Messages, &msgs); err != nil {
			t.Fatalf("%s: messages %s", w.Name, w.Messages)
		}
		if strings.Join(s.Capabilities, " ") != strings.Join(w.Capabilities, " ") ||
			s.Connections != w.Connections || s.Messages != msgs || s.State.String() != w.State ||
			s.IgnoreExtraUntagged != w.IgnoreExtraUntagged || filepath.Base(s.Mbox) != w.Mbox ||
			s.bannerCheck != w.BannerCheck {
			t.Errorf("%s: header %+v differs from JSON %+v", w.Name, s, w)
		}
		if len(s.groups) != len(w.Groups) {
			t.Errorf("%s: %d groups, JSON has %d", w.Name, len(s.groups), len(w.Groups))
			continue
		}
		for gi, wg := range w.Groups {
			g := s.groups[gi]
			if g.conn != wg.Connection || g.implicit != wg.Implicit ||
				len(g.commands) != len(wg.Commands) || len(g.untagged) != len(wg.Untagged) {
				t.Errorf("%s group %d: shape differs from JSON", w.Name, gi+1)
				continue
			}
			for ci, wc := range wg.Commands {
				c := g.commands[ci]
				if c.tag != wc.Tag || string(c.text) != jsonBytes(wc.Command, wc.CommandB64) {
					t.Errorf("%s group %d: command %q (tag %d), JSON %q (tag %d)", w.Name, gi+1, c.text, c.tag, wc.Command, wc.Tag)
				}
				status, ok := c.reply[0].astring()
				if !ok {
					t.Errorf("%s group %d: reply %v", w.Name, gi+1, c.reply)
				}
				status = strings.ToUpper(status)
				if status == "" {
					status = "ANY"
				}
				prefix, err := parseArgs([]byte(wc.ExpectPrefix), 0)
				if err != nil {
					t.Fatal(err)
				}
				if wc.Expect == nil || status != *wc.Expect || formatArgs(c.reply[1:]) != formatArgs(prefix) {
					t.Errorf("%s group %d: reply %s, JSON %v %q", w.Name, gi+1, formatArgs(c.reply), wc.Expect, wc.ExpectPrefix)
				}
			}
			for ui, wu := range wg.Untagged {
				u := g.untagged[ui]
				if u.existence != existence[wu.Existence] || u.text != jsonBytes(wu.Text, wu.B64) {
					t.Errorf("%s group %d: untagged %s %q, JSON %s %q", w.Name, gi+1, u.existence, u.text, wu.Existence, wu.Text)
				}
			}
		}
	}
}

func TestParseScriptErrors(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"no final LF", "state: auth\n\nok noop"},
		{"unknown header", "colour: blue\n\nok noop\n"},
		{"no commands", "state: auth\n\n"},
		{"missing reply", "state: auth\n\nnoop\n"},
		{"unclosed multiline", "state: auth\n\nok append {{{\nabc\n"},
		{"unknown directive", "state: auth\n\nok noop\n* 1 fetch ($!sideways)\n"},
		{"reply on wrong connection", "connections: 2\n\n1 noop\n2 ok\n"},
		{"unclosed ifenv", "state: auth\n\n!ifenv X\nok noop\n"},
	} {
		if _, err := ParseScript(tc.name, []byte(tc.text), nil); err == nil {
			t.Errorf("%s: parsed without error", tc.name)
		}
	}
}

func TestParseScriptDetails(t *testing.T) {
	text := "connections: 2\nstate: auth\n\n" +
		"# comment\n" +
		"1 ok append $mailbox {{{\nline1\nline2\n}}}\n" +
		"1 tag1 fetch 1 uid\n1 tag2 fetch 2 uid\n* 1 fetch (uid $u flags (\\seen))\n1 tag2 ok\n1 tag1 no [x]\n" +
		"2 \"\" ~{{{\nab\n}}} x\n" +
		"!ifenv IMAPTEST_SET\n2 ok set\n!else\n2 ok unset\n!endif\n"
	s, err := ParseScript("t", []byte(text), func(k string) (string, bool) { return "1", k == "IMAPTEST_SET" })
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.groups[0].commands[0].text); got != "append $mailbox {12}\r\nline1\r\nline2" {
		t.Errorf("literal command %q", got)
	}
	g := s.groups[1]
	if len(g.commands) != 2 || g.commands[0].tag != 1 || formatArgs(g.commands[0].reply) != "no [x]" ||
		formatArgs(g.commands[1].reply) != "ok" {
		t.Errorf("pipelined group %+v", g)
	}
	// default directives: FETCH items in pairs, FLAGS unordered with \Recent ignored
	if got := formatArgs(g.untagged[0].args); got != `1 fetch ($!unordered=2 uid $u flags ($!unordered $!noextra $!ignore=\recent $!ignore=$HasAttachment $!ignore=$HasNoAttachment \seen))` {
		t.Errorf("directives: %s", got)
	}
	if got := string(s.groups[2].commands[0].text); got != "~{2}\r\nab x" || s.groups[2].conn != 1 {
		t.Errorf("binary literal %q", got)
	}
	if got := string(s.groups[3].commands[0].text); got != "set" {
		t.Errorf("!ifenv: %q", got)
	}
	if !s.groups[len(s.groups)-1].implicit {
		t.Error("no implicit LOGOUT")
	}
}
