package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sieveFiles makes two script files and a directory, and returns them
// quoted for TOML.
func sieveFiles(t *testing.T) (before, after, dir string) {
	t.Helper()
	dir = t.TempDir()
	before, after = filepath.Join(dir, "before.sieve"), filepath.Join(dir, "after.sieve")
	for _, f := range []string{before, after} {
		if err := os.WriteFile(f, []byte("keep;\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return before, after, dir
}

func TestSieveSection(t *testing.T) {
	noEnv(t)
	before, after, dir := sieveFiles(t)
	c, err := loadString(t, `
[sieve]
enabled = false
before = ['`+before+`']
after = ['`+after+`', '`+before+`']
global_dir = '`+dir+`'
max_script_size = 65_536
max_actions = 100
max_redirects = 1
max_cpu = "500ms"
relay = "mta.example.org:587"
relay_tls = "none"
relay_helo = "mail.example.org"
vacation_min_period = "0s"
vacation_default_period = "72h"
vacation_max_period = "1440h"
spam_header = "X-Spam-Score"
spam_max_value = 15
spam_type = "score"
virus_header = "X-Virus-Scan: Found to be (.+)\\."
virus_max_header = "X-Virus-Max"
virus_type = "text"
virus_text_values = ["1:clean", "5:infected"]
spam_text_values = ["0: unknown"]
`)
	if err != nil {
		t.Fatal(err)
	}
	want := Sieve{
		Enabled: false, Before: []string{before}, After: []string{after, before}, GlobalDir: dir,
		MaxScriptSize: 65536, MaxActions: 100, MaxRedirects: 1, MaxCPU: Duration(500 * time.Millisecond),
		Relay: "mta.example.org:587", RelayTLS: "none", RelayHelo: "mail.example.org", RedirectEnvelopeFrom: "sender",
		VacationMinPeriod: 0, VacationDefaultPeriod: Duration(72 * time.Hour), VacationMaxPeriod: Duration(1440 * time.Hour),
		SpamHeader: "X-Spam-Score", SpamMaxValue: 15, SpamType: "score", SpamTextValues: []string{"0: unknown"},
		VirusHeader: `X-Virus-Scan: Found to be (.+)\.`, VirusMaxHeader: "X-Virus-Max", VirusType: "text", VirusTextValues: []string{"1:clean", "5:infected"},
	}
	if !reflect.DeepEqual(c.Sieve, want) {
		t.Errorf("got\n%+v\nwant\n%+v", c.Sieve, want)
	}
	if got := TextValues(c.Sieve.VirusTextValues); !reflect.DeepEqual(got, []string{"", "clean", "", "", "", "infected"}) {
		t.Errorf("TextValues = %q", got)
	}
	if got := TextValues(c.Sieve.SpamTextValues); !reflect.DeepEqual(got, []string{" unknown"}) {
		t.Errorf("TextValues keeps the text as written: %q", got)
	}
	if got := TextValues(nil); got != nil {
		t.Errorf("TextValues(nil) = %q", got)
	}

	// And back: config check prints what was loaded.
	var buf bytes.Buffer
	if err := c.WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := loadString(t, buf.String())
	if err != nil {
		t.Fatalf("reloading\n%s\n: %v", buf.String(), err)
	}
	if !reflect.DeepEqual(back.Sieve, c.Sieve) {
		t.Errorf("round trip:\n%+v\n%+v\n%s", back.Sieve, c.Sieve, buf.String())
	}
	for _, line := range []string{"[sieve]", "spam_max_value = 15.0", `relay = "mta.example.org:587"`, `virus_text_values = ["1:clean", "5:infected"]`, "before = [", "enabled = false"} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("config check output lacks %q:\n%s", line, buf.String())
		}
	}
}

// TestSieveDocsExample loads the SpamAssassin example of docs/config.md and
// checks its expressions find the score in a SpamAssassin header.
func TestSieveDocsExample(t *testing.T) {
	noEnv(t)
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "A SpamAssassin setup")
	if !ok {
		t.Fatal("no SpamAssassin example in the docs")
	}
	_, block, _ := strings.Cut(after, "```toml\n")
	block, _, _ = strings.Cut(block, "```\n")
	c, err := loadString(t, block)
	if err != nil {
		t.Fatalf("%s: %v", block, err)
	}
	field := "Yes, score=7.6 required=5.0 autolearn=no version=3.2.5"
	for _, h := range []struct{ spec, want string }{{c.Sieve.SpamHeader, "7.6"}, {c.Sieve.SpamMaxHeader, "5.0"}} {
		name, re, _ := strings.Cut(h.spec, ":")
		if name != "X-Spam-Status" {
			t.Errorf("header %q", name)
		}
		m := regexpMust(t, strings.TrimLeft(re, " ")).FindStringSubmatch(field)
		if m == nil || m[1] != h.want {
			t.Errorf("%q on %q: %q, want %s", re, field, m, h.want)
		}
	}
}

func TestSieveBadValues(t *testing.T) {
	noEnv(t)
	before, _, dir := sieveFiles(t)
	for _, tt := range []struct{ src, key, problem string }{
		// Types.
		{"enabled = 'yes'", "sieve.enabled", "must be true or false"},
		{"before = '/etc/before.sieve'", "sieve.before", `must be an array of strings, not a string ("/etc/before.sieve")`},
		{"after = [1]", "sieve.after", "element 1 must be a string, not an integer (1)"},
		{"after = ['" + before + "', true]", "sieve.after", "element 2 must be a string, not a boolean (true)"},
		{"spam_max_value = '10'", "sieve.spam_max_value", `must be a number, not a string ("10")`},
		{"max_cpu = 2", "sieve.max_cpu", "must be a duration string"},
		{"vacation_default_period = '7d'", "sieve.vacation_default_period", `"7d" is not a duration`},
		// Files.
		{"before = ['" + dir + "/missing.sieve']", "sieve.before", `missing.sieve" does not exist`},
		{"after = ['" + dir + "']", "sieve.after", "is a directory"},
		{"before = ['']", "sieve.before", "element 1 is empty"},
		{"global_dir = '" + dir + "/nope'", "sieve.global_dir", "does not exist"},
		{"global_dir = '" + before + "'", "sieve.global_dir", "is not a directory"},
		// Limits.
		{"max_script_size = 0", "sieve.max_script_size", "0 is less than 1"},
		{"max_script_size = 100_000_000", "sieve.max_script_size", "100000000 is more than 67108864"},
		{"max_actions = 0", "sieve.max_actions", "0 is less than 1"},
		{"max_redirects = -1", "sieve.max_redirects", "-1 is less than 1"},
		{"max_cpu = '0s'", "sieve.max_cpu", "0s is not positive"},
		// Relay.
		{"relay = '25'", "sieve.relay", `"25" is not host:port`},
		{"relay = ':25'", "sieve.relay", `":25" has no host`},
		{"relay = '127.0.0.1:0'", "sieve.relay", "port 0 cannot be connected to"},
		{"relay = 'mail server:25'", "sieve.relay", "neither an IP address nor a host name"},
		{"relay_tls = 'ssl'", "sieve.relay_tls", `"ssl" is not one of starttls, none, tls`},
		{"relay_tls = ''", "sieve.relay_tls", `"" is not one of starttls, none, tls`},
		{"relay_helo = 'mail server'", "sieve.relay_helo", `"mail server" is not a host name`},
		{"redirect_envelope_from = 'postmaster'", "sieve.redirect_envelope_from", `"postmaster" is none of sender, recipient, orig_recipient, user_email, <address> or <>`},
		{"redirect_envelope_from = 'bounce@example.org'", "sieve.redirect_envelope_from", `"bounce@example.org" is none of`},
		// Vacation periods.
		{"vacation_min_period = '-1h'", "sieve.vacation_min_period", "-1h is negative"},
		{"vacation_min_period = '240h'", "sieve.vacation_default_period", "168h is shorter than vacation_min_period (240h)"},
		{"vacation_max_period = '24h'", "sieve.vacation_max_period", "24h is shorter than vacation_default_period (168h)"},
		{"vacation_max_period = '-1s'", "sieve.vacation_max_period", "-1s is negative"},
		// Spam and virus.
		{"spam_type = 'boolean'", "sieve.spam_type", `"boolean" is not one of score, strlen, text`},
		{"virus_type = 'Score'", "sieve.virus_type", `"Score" is not one of score, strlen, text`},
		{"spam_header = 'X-Spam-Score'", "sieve.spam_max_value", `must be set (or spam_max_header) when spam_header is set and spam_type is "score"`},
		{"spam_header = 'X-Spam-Level'\nspam_type = 'strlen'", "sieve.spam_max_value", `spam_type is "strlen"`},
		{"virus_header = 'X-Virus-Score'", "sieve.virus_max_value", `must be set (or virus_max_header) when virus_header is set and virus_type is "score"`},
		{"virus_max_header = 'X-Virus-Max: [0-9]'\nvirus_header = 'X-Virus'", "sieve.virus_max_header", "has no group"},
		{"spam_header = 'X-Spam'\nspam_type = 'text'", "sieve.spam_text_values", `must list at least one "N:text" when spam_type is "text"`},
		{"spam_header = 'X Spam: (.*)'\nspam_max_value = 1", "sieve.spam_header", `"X Spam" is not a header name`},
		{"spam_header = ': (.*)'\nspam_max_value = 1", "sieve.spam_header", "has no header name"},
		{"spam_header = 'X-Spam:   '\nspam_max_value = 1", "sieve.spam_header", "empty regular expression"},
		{"spam_header = 'X-Spam: score=([0-9'\nspam_max_value = 1", "sieve.spam_header", `regular expression "score=([0-9"`},
		{"spam_header = 'X-Spam: score=[0-9]+'\nspam_max_value = 1", "sieve.spam_header", "has no group (...) to capture the value"},
		{"spam_max_header = 'X-Spam-Max: \\d+'\nspam_header = 'X-Spam'", "sieve.spam_max_header", "has no group"},
		{"virus_header = 'X-Virus: (\\w+'\nvirus_max_value = 5", "sieve.virus_header", "regular expression"},
		{"spam_max_value = -1.5", "sieve.spam_max_value", "-1.5 is not a number of 0 or more"},
		{"spam_max_value = nan", "sieve.spam_max_value", "NaN is not a number"},
		{"virus_max_value = inf", "sieve.virus_max_value", "+Inf is not a number"},
		{"spam_text_values = ['Yes']", "sieve.spam_text_values", `element 1: "Yes" is not "N:text"`},
		{"spam_text_values = ['11:Yes']", "sieve.spam_text_values", `in "11:Yes", "11" is not a value from 0 to 10`},
		{"virus_text_values = ['1:clean', '6:infected']", "sieve.virus_text_values", `element 2: in "6:infected", "6" is not a value from 0 to 5`},
		{"spam_text_values = ['x:Yes']", "sieve.spam_text_values", `"x" is not a value`},
		{"spam_text_values = ['10:']", "sieve.spam_text_values", "has no text after the colon"},
		{"spam_text_values = ['1:No', '1:Nope']", "sieve.spam_text_values", "element 2: value 1 is given twice"},
	} {
		src := "[sieve]\n" + tt.src + "\n"
		_, err := loadString(t, src)
		ps := problems(t, err)
		if len(ps) != 1 || ps[0].Key != tt.key || !strings.Contains(ps[0].Problem, tt.problem) {
			t.Errorf("%q:\ngot  %v\nwant one problem: %s: ...%s...", tt.src, err, tt.key, tt.problem)
		}
	}
}

func TestSieveGoodValues(t *testing.T) {
	noEnv(t)
	for _, src := range []string{
		"relay = '127.0.0.1:25'",
		"relay = '[::1]:25'\nrelay_tls = 'tls'",
		"relay = 'smtp.example.org:465'\nrelay_tls = 'tls'\nrelay_helo = 'mx1.example.org'",
		"vacation_min_period = '0s'\nvacation_default_period = '0s'",
		"vacation_min_period = '1s'\nvacation_default_period = '24h'\nvacation_max_period = '24h'",
		"vacation_max_period = '0s'",
		// Pigeonhole's documented examples.
		"spam_type = 'score'\nspam_header = 'X-Spam-Score: [[:alnum:]]+, score=(-?[[:digit:]]+\\.[[:digit:]])'\nspam_max_value = 5.0",
		"spam_type = 'text'\nspam_header = 'X-Spam-Status'\nspam_text_values = ['1:No', '10:Yes']",
		"spam_header = 'X-Spam-Score'\nspam_type = 'strlen'\nspam_max_value = 5",
		"virus_type = 'text'\nvirus_header = 'X-Virus-Scan: Found to be (.+)\\.'\nvirus_text_values = ['1:clean', '5:infected']",
		// A max header instead of a max value.
		"spam_header = 'X-Spam: score=([0-9.]+)'\nspam_max_header = 'X-Spam: required=([0-9.]+)'",
		"virus_header = 'X-Virus: level=([0-9])'\nvirus_max_header = 'X-Virus: max=([0-9])'",
		// Go syntax that POSIX lacks.
		"spam_header = 'X-Spam: score=(\\d+(?:\\.\\d+)?)'\nspam_max_value = 10",
		// Unconfigured scanners need nothing else.
		"spam_type = 'text'\nvirus_type = 'strlen'",
		"before = []\nafter = []\nglobal_dir = ''",
		"max_script_size = 67108864\nmax_actions = 1\nmax_redirects = 1\nmax_cpu = '1ms'",
	} {
		if _, err := loadString(t, "[sieve]\n"+src+"\n"); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// TestSieveValidate checks Validate on a Config changed in code, with a
// list left nil.
func TestSieveValidate(t *testing.T) {
	noEnv(t)
	c := Default()
	c.Sieve.Before = nil
	c.Sieve.Relay = "127.0.0.1:25"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Sieve.RelayTLS = "always"
	c.Sieve.MaxActions = 0
	var keys []string
	for _, p := range problems(t, c.Validate()) {
		keys = append(keys, p.Key)
	}
	if strings.Join(keys, " ") != "sieve.max_actions sieve.relay_tls" {
		t.Errorf("problems with %v", keys)
	}
}

func regexpMust(t *testing.T, re string) *regexp.Regexp {
	t.Helper()
	x, err := regexp.Compile(re)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
