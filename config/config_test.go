package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// noEnv makes sure LETTERBOX_DATA does not leak into a test.
func noEnv(t *testing.T) {
	t.Helper()
	t.Setenv(EnvDataDir, "")
}

// loadString writes src to a file and loads it.
func loadString(t *testing.T, src string) (*Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "letterbox.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}

// problems returns the *KeyError values joined in err.
func problems(t *testing.T, err error) []*KeyError {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []*KeyError
	for _, e := range errs {
		var ke *KeyError
		if !errors.As(e, &ke) {
			t.Fatalf("problem %v is not a *KeyError", e)
		}
		out = append(out, ke)
	}
	return out
}

// tlsFiles creates a certificate and a key file (their content is not
// checked by this package) and returns a [tls] section naming them.
func tlsFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("not checked\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return "[tls]\ncert_file = '" + cert + "'\nkey_file = '" + key + "'\n"
}

func TestDefault(t *testing.T) {
	noEnv(t)
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
	want := &Config{
		DataDir: "./letterbox-data",
		Storage: Storage{
			Backend: "sqlite", BlobBackend: "sql", Compression: "none", BlobFileMinSize: 256 << 10,
			MaxOpenDomains: 256,
			IdleClose:      Duration(10 * time.Minute),
			BlobGrace:      Duration(time.Hour),
			VanishedKeep:   Duration(720 * time.Hour),
		},
		IMAP:        IMAP{Listen: "127.0.0.1:1143"},
		POP3:        POP3{Listen: "127.0.0.1:1110"},
		LMTP:        LMTP{Listen: "127.0.0.1:2424", RecipientDelimiter: "+"},
		ManageSieve: ManageSieve{Listen: "127.0.0.1:4190", MaxScripts: 25, MaxScriptSize: 1 << 20},
		Auth:        Auth{AllowCleartext: "loopback", CacheTTL: Duration(5 * time.Minute), CacheSize: 1024},
		Limits: Limits{
			MaxLine: 65536, MaxMessageSize: 52428800,
			MaxConnectionsPerIP: 50, MaxConnectionsPerUser: 20,
		},
		Log: Log{Level: "info", Format: "text"},
	}
	want.Sieve = Sieve{
		Enabled: true, Before: []string{}, After: []string{},
		MaxScriptSize: 1 << 20, MaxActions: 32, MaxRedirects: 4, MaxCPU: Duration(2 * time.Second),
		RelayTLS: "starttls", RedirectEnvelopeFrom: "sender",
		VacationMinPeriod: Duration(24 * time.Hour), VacationDefaultPeriod: Duration(168 * time.Hour),
		SpamType: "score", SpamTextValues: []string{}, VirusType: "score", VirusTextValues: []string{},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", c, want)
	}
	// Each call returns a fresh value.
	c.IMAP.Listen = ""
	if Default().IMAP.Listen == "" {
		t.Error("Default() returned shared state")
	}
}

func TestEmptyFile(t *testing.T) {
	noEnv(t)
	c, err := loadString(t, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.IMAP.Listen = ":143"
	want.POP3.Listen = ":110"
	want.LMTP.Listen = "127.0.0.1:24"
	want.ManageSieve.Listen = ":4190"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("empty file =\n%+v\nwant\n%+v", c, want)
	}
}

func TestDependentDefaults(t *testing.T) {
	noEnv(t)
	tls := tlsFiles(t)
	tests := []struct {
		name, src string
		check     func(c *Config) bool
	}{
		{"tls turns on implicit TLS", tls, func(c *Config) bool {
			return c.IMAP.ListenTLS == ":993" && c.POP3.ListenTLS == ":995"
		}},
		{"explicit off stays off", tls + "[imap]\nlisten_tls = ''\n[pop3]\nlisten_tls = '127.0.0.1:9995'\n", func(c *Config) bool {
			return c.IMAP.ListenTLS == "" && c.POP3.ListenTLS == "127.0.0.1:9995"
		}},
		{"no tls, no implicit TLS", "", func(c *Config) bool {
			return c.IMAP.ListenTLS == "" && c.POP3.ListenTLS == ""
		}},
		{"socket replaces lmtp tcp", "[lmtp]\nsocket = '/run/letterbox/lmtp.sock'\n", func(c *Config) bool {
			return c.LMTP.Listen == "" && c.LMTP.Socket == "/run/letterbox/lmtp.sock"
		}},
		{"socket and tcp", "[lmtp]\nsocket = 'lmtp.sock'\nlisten = '127.0.0.1:24'\n", func(c *Config) bool {
			return c.LMTP.Listen == "127.0.0.1:24" && c.LMTP.Socket == "lmtp.sock"
		}},
		{"postgres stores blobs in files", "[storage]\nbackend = 'postgres'\npostgres_url = 'postgres://letterbox@db/letterbox'\n", func(c *Config) bool {
			return c.Storage.BlobBackend == "file"
		}},
		{"postgres with sql blobs", "[storage]\nbackend = 'postgres'\npostgres_url = 'host=db dbname=letterbox'\nblob_backend = 'sql'\n", func(c *Config) bool {
			return c.Storage.BlobBackend == "sql"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadString(t, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("got %+v", c)
			}
		})
	}
}

func TestExampleFile(t *testing.T) {
	noEnv(t)
	c, err := Load("../testdata/config/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/letterbox" || c.Quota.Default != 10<<30 || c.Limits.MaxLine != 65536 {
		t.Errorf("example loaded as %+v", c)
	}
	// The example sets every key.
	src, err := os.ReadFile("../testdata/config/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	leaves(reflectOf(c), "", func(key string, _ reflect.Value) {
		name := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(string(src), "\n"+name+" = ") {
			t.Errorf("example.toml does not set %s", key)
		}
	})
}

func TestUnknownKeys(t *testing.T) {
	noEnv(t)
	tests := []struct{ src, key, problem string }{
		{"datadir = 'x'\n", "datadir", `unknown key (did you mean "data_dir"?)`},
		{"colour = 'blue'\n", "colour", "unknown key"},
		{"[storage]\nbakend = 'sqlite'\n", "storage.bakend", `unknown key (did you mean "backend"?)`},
		{"[storage]\nBackend = 'sqlite'\n", "storage.Backend", `unknown key (did you mean "backend"?)`},
		{"[smtp]\nlisten = ':25'\n", "smtp", `unknown section (did you mean "lmtp"?)`},
		{"[webmail]\nurl = 'x'\n", "webmail", "unknown section"},
		{"[storage.sqlite]\nwal = true\n", "storage.sqlite", "unknown section"},
		{"[imap]\nlisten = ':143'\nidle_timeout = '30m'\n", "imap.idle_timeout", "unknown key"},
	}
	for _, tt := range tests {
		_, err := loadString(t, tt.src)
		ps := problems(t, err)
		if len(ps) != 1 || ps[0].Key != tt.key || ps[0].Problem != tt.problem {
			t.Errorf("%q: got %v, want %s: %s", tt.src, err, tt.key, tt.problem)
		}
	}
}

func TestBadValues(t *testing.T) {
	noEnv(t)
	tls := tlsFiles(t)
	dir := t.TempDir()
	tests := []struct{ src, key, problem string }{
		// Types.
		{"data_dir = 42\n", "data_dir", "must be a string, not an integer (42)"},
		{"storage = 'sqlite'\n", "storage", `must be a table ([storage]), not a string ("sqlite")`},
		{"[limits]\nmax_line = '64k'\n", "limits.max_line", `must be an integer, not a string ("64k")`},
		{"[limits]\nmax_line = 1.5\n", "limits.max_line", "must be an integer, not a float (1.5)"},
		{"[auth]\ncache_size = [1]\n", "auth.cache_size", "must be an integer, not an array"},
		{"[log]\nlevel = true\n", "log.level", "must be a string, not a boolean (true)"},
		{"[storage.backend]\nname = 'sqlite'\n", "storage.backend", "must be a string, not a table"},
		{"[imap]\nlisten = 1979-05-27\n", "imap.listen", "must be a string, not a date or time"},
		// Durations.
		{"[storage]\nidle_close = '10 minutes'\n", "storage.idle_close", `"10 minutes" is not a duration`},
		{"[storage]\nidle_close = 600\n", "storage.idle_close", `must be a duration string such as "10m", not an integer (600)`},
		{"[storage]\nidle_close = '0s'\n", "storage.idle_close", "0s is not positive"},
		{"[storage]\nblob_grace = '30s'\n", "storage.blob_grace", "30s is shorter than 1m"},
		{"[storage]\nvanished_keep = '-1h'\n", "storage.vanished_keep", "-1h is not positive"},
		{"[auth]\ncache_ttl = '-5m'\n", "auth.cache_ttl", "-5m is negative"},
		// Values.
		{"data_dir = ''\n", "data_dir", "must not be empty"},
		{"[storage]\nbackend = 'mysql'\n", "storage.backend", `"mysql" is not one of sqlite, postgres`},
		{"[storage]\nbackend = 'postgres'\n", "storage.postgres_url", `must be set when storage.backend is "postgres"`},
		{"[storage]\npostgres_url = 'mysql://root:secret@db/mail'\n", "storage.postgres_url", `URL scheme "mysql" is not postgres or postgresql`},
		{"[storage]\npostgres_url = 'secret'\n", "storage.postgres_url", "is neither a URL"},
		{"[storage]\nblob_backend = 's3'\n", "storage.blob_backend", `"s3" is not one of sql, file`},
		{"[storage]\ncompression = 'gzip'\n", "storage.compression", `"gzip" is not one of none, zstd`},
		{"[storage]\nmax_open_domains = 0\n", "storage.max_open_domains", "0 is less than 1"},
		{"[imap]\nlisten = '143'\n", "imap.listen", `"143" is not host:port (write ":143" for all interfaces)`},
		{"[imap]\nlisten = 'localhost'\n", "imap.listen", `"localhost" is not host:port`},
		{"[pop3]\nlisten = ':65536'\n", "pop3.listen", `port "65536" is not a number from 0 to 65535`},
		{"[pop3]\nlisten = ':pop3'\n", "pop3.listen", `port "pop3" is not a number from 0 to 65535`},
		{"[managesieve]\nlisten = 'mail server:4190'\n", "managesieve.listen", `host "mail server" is neither an IP address nor a host name`},
		{"[managesieve]\nmax_scripts = -1\n", "managesieve.max_scripts", "-1 is less than 0"},
		{"[managesieve]\nmax_script_size = 0\n", "managesieve.max_script_size", "0 is less than 1"},
		{"[managesieve]\nmax_script_size = 100_000_000\n", "managesieve.max_script_size", "100000000 is more than 67108864"},
		{"[lmtp]\nlisten = ':-1'\n", "lmtp.listen", `port "-1" is not a number`},
		{"[imap]\nlisten_tls = ':993'\n", "imap.listen_tls", `":993" needs tls.cert_file and tls.key_file`},
		{"[pop3]\nlisten_tls = ':995'\n", "pop3.listen_tls", `":995" needs tls.cert_file and tls.key_file`},
		{"[pop3]\nlisten = ':143'\n", "pop3.listen", `":143" is also imap.listen`},
		{"[lmtp]\nsocket = '/" + strings.Repeat("s", 120) + "'\n", "lmtp.socket", "is 121 bytes long; a unix socket path may have at most 107"},
		{"[lmtp]\nsocket = '/run/letterbox/'\n", "lmtp.socket", "is a directory, not a socket path"},
		{"[lmtp]\nhostname = 'mail server'\n", "lmtp.hostname", `"mail server" is not a host name`},
		{"[lmtp]\nrecipient_delimiter = 'x'\n", "lmtp.recipient_delimiter", `'x' cannot separate a local part`},
		{"[lmtp]\nrecipient_delimiter = '@'\n", "lmtp.recipient_delimiter", `'@' cannot separate a local part`},
		{"[lmtp]\nrecipient_delimiter = '+-_.=~#$%'\n", "lmtp.recipient_delimiter", "has more than 8 characters"},
		{"[lmtp]\nquota_full_tempfail = 'yes'\n", "lmtp.quota_full_tempfail", "must be true or false"},
		{"[tls]\ncert_file = '" + dir + "/missing.pem'\nkey_file = '" + dir + "/missing.pem'\n", "tls.cert_file", "missing.pem\" does not exist"},
		{"[tls]\ncert_file = '" + dir + "'\nkey_file = '" + dir + "'\n", "tls.cert_file", "is a directory"},
		{"[auth]\nallow_cleartext = 'sometimes'\n", "auth.allow_cleartext", `"sometimes" is not one of loopback, always, never`},
		{"[auth]\ncache_size = -1\n", "auth.cache_size", "-1 is less than 0"},
		{"[limits]\nmax_line = 1000\n", "limits.max_line", "1000 is less than 8192"},
		{"[limits]\nmax_message_size = 0\n", "limits.max_message_size", "0 is less than 1"},
		{"[limits]\nmax_connections_per_ip = -1\n", "limits.max_connections_per_ip", "-1 is less than 0"},
		{"[limits]\nmax_connections_per_user = -1\n", "limits.max_connections_per_user", "-1 is less than 0"},
		{"[log]\nlevel = 'verbose'\n", "log.level", `"verbose" is not one of debug, info, warn, error`},
		{"[log]\nformat = 'logfmt'\n", "log.format", `"logfmt" is not one of text, json`},
		{"[quota]\ndefault = -1\n", "quota.default", "-1 is less than 0"},
		{tls + "[imap]\nlisten_tls = ':143'\n", "imap.listen_tls", `":143" is also imap.listen`},
	}
	for _, tt := range tests {
		_, err := loadString(t, tt.src)
		ps := problems(t, err)
		found := false
		for _, p := range ps {
			if p.Key == tt.key && strings.Contains(p.Problem, tt.problem) {
				found = true
			}
		}
		if !found {
			t.Errorf("%q:\ngot  %v\nwant %s: ...%s...", tt.src, err, tt.key, tt.problem)
			continue
		}
		if len(ps) != 1 && !strings.HasPrefix(tt.key, "tls.") {
			t.Errorf("%q: more than one problem: %v", tt.src, err)
		}
		if !strings.HasPrefix(err.Error(), "config: "+tt.key+": ") {
			t.Errorf("%q: error %q does not start with the key", tt.src, err)
		}
	}
}

func TestTLSPairs(t *testing.T) {
	noEnv(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadString(t, "[tls]\ncert_file = '"+f+"'\n")
	if ps := problems(t, err); len(ps) != 1 || ps[0].Key != "tls.key_file" || ps[0].Problem != "must be set when tls.cert_file is set" {
		t.Errorf("cert without key: %v", err)
	}
	_, err = loadString(t, "[tls]\nkey_file = '"+f+"'\n")
	if ps := problems(t, err); len(ps) != 1 || ps[0].Key != "tls.cert_file" {
		t.Errorf("key without cert: %v", err)
	}
}

func TestGoodValues(t *testing.T) {
	noEnv(t)
	for _, src := range []string{
		"[imap]\nlisten = '[::1]:143'\n",
		"[imap]\nlisten = 'mail.example.org:143'\n",
		"[imap]\nlisten = '0.0.0.0:0'\n[pop3]\nlisten = '0.0.0.0:0'\n", // ephemeral ports never collide
		"[imap]\nlisten = ''\n[pop3]\nlisten = ''\n[lmtp]\nlisten = ''\n[managesieve]\nlisten = ''\n",
		"[storage]\nbackend = 'postgres'\npostgres_url = 'postgresql://u:p@db:5432/mail?sslmode=verify-full'\n",
		"[auth]\ncache_ttl = '0s'\ncache_size = 0\n",
		"[limits]\nmax_line = 8192\nmax_connections_per_ip = 0\nmax_connections_per_user = 0\n",
		"[storage]\nblob_grace = '1m'\nidle_close = '1h30m'\n",
	} {
		if _, err := loadString(t, src); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

func TestAllProblemsTogether(t *testing.T) {
	noEnv(t)
	src := `
bogus = 1
[storage]
backend = "mysql"
idle_close = "soon"
[log]
level = "loud"
[limits]
max_line = "long"
[auth]
allow_cleartext = "sometimes"
`
	_, err := loadString(t, src)
	want := []string{
		`config: auth.allow_cleartext: "sometimes" is not one of loopback, always, never`,
		`config: bogus: unknown key`,
		`config: limits.max_line: must be an integer, not a string ("long")`,
		`config: log.level: "loud" is not one of debug, info, warn, error`,
		`config: storage.backend: "mysql" is not one of sqlite, postgres`,
		`config: storage.idle_close: "soon" is not a duration (write a number and a unit, such as "90s", "10m" or "1h")`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
	if ps := problems(t, err); len(ps) != len(want) {
		t.Errorf("%d problems, want %d", len(ps), len(want))
	}

	// Validate collects too, in key order.
	c := Default()
	c.Log.Format = "xml"
	c.DataDir = ""
	c.Storage.MaxOpenDomains = -1
	err = c.Validate()
	var keys []string
	for _, p := range problems(t, err) {
		keys = append(keys, p.Key)
	}
	if strings.Join(keys, " ") != "data_dir log.format storage.max_open_domains" {
		t.Errorf("Validate: %v", err)
	}
}

func TestSyntaxAndFileErrors(t *testing.T) {
	noEnv(t)
	_, err := loadString(t, "[storage\nbackend = 'sqlite'\n")
	if err == nil || !strings.Contains(err.Error(), "letterbox.toml") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("syntax error: %v", err)
	}
	_, err = loadString(t, "data_dir = 'a'\ndata_dir = 'b'\n")
	if err == nil {
		t.Error("duplicate key accepted")
	}
	_, err = Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestEnvDataDir(t *testing.T) {
	t.Setenv(EnvDataDir, "/srv/mail")
	if got := Default().DataDir; got != "/srv/mail" {
		t.Errorf("Default().DataDir = %q", got)
	}
	c, err := loadString(t, "data_dir = '/var/lib/letterbox'\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/mail" {
		t.Errorf("env does not override the file: %q", c.DataDir)
	}
	c, err = loadString(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/mail" {
		t.Errorf("env does not override the file default: %q", c.DataDir)
	}

	// Empty is unset.
	t.Setenv(EnvDataDir, "")
	if got := Default().DataDir; got != "./letterbox-data" {
		t.Errorf("empty %s: DataDir = %q", EnvDataDir, got)
	}
}

func TestRoundTrip(t *testing.T) {
	noEnv(t)
	example, err := Load("../testdata/config/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	custom, err := loadString(t, `
data_dir = "/srv/mail \"quoted\" ü"
[storage]
backend = "postgres"
postgres_url = "postgres://letterbox@db.example.org/letterbox?sslmode=require"
compression = "zstd"
blob_grace = "1h30m15s"
vanished_keep = "1.5s"
[lmtp]
socket = "/run/letterbox/lmtp.sock"
[quota]
default = 1_000_000
`+tlsFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	// A Config from code, whose dependent defaults Load would fill
	// differently: WriteTOML writes every key, so nothing is re-derived.
	code := Default()
	code.Storage.Backend = "postgres"
	code.Storage.PostgresURL = "host=db dbname=letterbox"
	code.Storage.BlobBackend = "sql"
	code.LMTP.Socket = "lmtp.sock"

	for name, c := range map[string]*Config{"default": Default(), "example": example, "custom": custom, "code": code} {
		var buf bytes.Buffer
		if err := c.WriteTOML(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := loadString(t, buf.String())
		if err != nil {
			t.Fatalf("%s: reloading\n%s\n: %v", name, buf.String(), err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%s: round trip changed the config:\n%+v\n%+v\n%s", name, c, got, buf.String())
		}
		// Every key is written.
		leaves(reflectOf(c), "", func(key string, _ reflect.Value) {
			name := key[strings.LastIndex(key, ".")+1:]
			if !strings.Contains(buf.String(), "\n"+name+" = ") {
				t.Errorf("WriteTOML does not write %s", key)
			}
		})
	}
}

func TestWriteTOMLRedactsPassword(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"postgres://letterbox:s3cret@db/letterbox", "postgres://letterbox:REDACTED@db/letterbox"},
		{"postgres://db/letterbox?user=letterbox&password=s3cret", "postgres://db/letterbox?password=REDACTED&user=letterbox"},
		{"host=db password=s3cret dbname=letterbox", "host=db password=REDACTED dbname=letterbox"},
		{"host=db password = 's3 cret\\'x' dbname=letterbox", "host=db password = REDACTED dbname=letterbox"},
		{"postgres://letterbox@db/letterbox", "postgres://letterbox@db/letterbox"},
	} {
		c := Default()
		c.Storage.PostgresURL = tt.url
		var buf bytes.Buffer
		if err := c.WriteTOML(&buf); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, "s3") {
			t.Errorf("%q: password in output:\n%s", tt.url, out)
		}
		if !strings.Contains(out, "postgres_url = \""+strings.ReplaceAll(tt.want, `'`, `'`)+"\"") {
			t.Errorf("%q: want %q in\n%s", tt.url, tt.want, out)
		}
		if c.Storage.PostgresURL != tt.url {
			t.Error("WriteTOML changed the Config")
		}
	}
}

func TestErrorsDoNotShowPostgresURL(t *testing.T) {
	noEnv(t)
	for _, u := range []string{"mysql://root:s3cret@db/mail", "s3cret", "postgres://root:s3cret@db:port/mail"} {
		_, err := loadString(t, "[storage]\npostgres_url = '"+u+"'\n")
		if err == nil {
			t.Errorf("%q accepted", u)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                            "0s",
		time.Hour:                    "1h",
		720 * time.Hour:              "720h",
		5 * time.Minute:              "5m",
		90 * time.Minute:             "1h30m",
		90 * time.Second:             "1m30s",
		time.Hour + time.Second:      "1h0m1s",
		1500 * time.Millisecond:      "1.5s",
		-10 * time.Minute:            "-10m",
		time.Hour + time.Microsecond: "1h0m0.000001s",
	} {
		if got := Duration(d).String(); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
		var back Duration
		if err := back.UnmarshalText([]byte(want)); err != nil || back != Duration(d) {
			t.Errorf("%q parses as %v, %v", want, back, err)
		}
	}
}
