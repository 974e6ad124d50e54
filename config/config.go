package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/BurntSushi/toml"
)

// EnvDataDir names the environment variable that, when set and not empty,
// overrides data_dir: over the built-in default and over the config file.
const EnvDataDir = "LETTERBOX_DATA"

// Config is the whole configuration. The toml tags are the keys of the
// file; docs/config.md documents each of them.
type Config struct {
	DataDir     string      `toml:"data_dir"`
	Storage     Storage     `toml:"storage"`
	IMAP        IMAP        `toml:"imap"`
	POP3        POP3        `toml:"pop3"`
	LMTP        LMTP        `toml:"lmtp"`
	ManageSieve ManageSieve `toml:"managesieve"`
	Sieve       Sieve       `toml:"sieve"`
	TLS         TLS         `toml:"tls"`
	Auth        Auth        `toml:"auth"`
	Limits      Limits      `toml:"limits"`
	Log         Log         `toml:"log"`
	Quota       Quota       `toml:"quota"`
}

// Storage is the [storage] section.
type Storage struct {
	Backend         string   `toml:"backend"`            // "sqlite" or "postgres"
	PostgresURL     string   `toml:"postgres_url"`       // required when Backend is "postgres"
	BlobBackend     string   `toml:"blob_backend"`       // "sql" or "file"
	Compression     string   `toml:"compression"`        // "none" or "zstd"
	BlobFileMinSize int64    `toml:"blob_file_min_size"` // "sql": messages this big go to files; 0 never
	MaxOpenDomains  int      `toml:"max_open_domains"`   // SQLite tenant router's LRU size
	IdleClose       Duration `toml:"idle_close"`         // idle domain database closed after this
	BlobGrace       Duration `toml:"blob_grace"`         // unreferenced blob kept this long
	VanishedKeep    Duration `toml:"vanished_keep"`      // expunge tombstones kept this long
}

// IMAP is the [imap] section. An empty address disables that listener.
type IMAP struct {
	Listen    string `toml:"listen"`     // cleartext, STARTTLS when TLS is configured
	ListenTLS string `toml:"listen_tls"` // implicit TLS
}

// POP3 is the [pop3] section. An empty address disables that listener.
type POP3 struct {
	Listen    string `toml:"listen"`     // cleartext, STLS when TLS is configured
	ListenTLS string `toml:"listen_tls"` // implicit TLS
}

// LMTP is the [lmtp] section. Listen and Socket may both be set; empty
// disables.
type LMTP struct {
	Listen string `toml:"listen"` // TCP address
	Socket string `toml:"socket"` // unix socket path
	// Hostname names this server in the greeting and in Received headers;
	// empty: the system's host name.
	Hostname string `toml:"hostname"`
	// RecipientDelimiter lists the characters that separate a local part
	// from its detail (user+detail@domain); empty turns details off.
	RecipientDelimiter string `toml:"recipient_delimiter"`
	// CaseSensitiveLocalParts makes Bob@example.com a different address
	// from bob@example.com (which every account name is).
	CaseSensitiveLocalParts bool `toml:"case_sensitive_local_parts"`
	// QuotaFullTempfail answers a full mailbox with 452 4.2.2 (try again
	// later) instead of 552 5.2.2 (bounce), as Dovecot's quota_full_tempfail.
	QuotaFullTempfail bool `toml:"quota_full_tempfail"`
}

// ManageSieve is the [managesieve] section. An empty address disables it.
type ManageSieve struct {
	Listen        string `toml:"listen"`
	MaxScripts    int    `toml:"max_scripts"`     // scripts per account; 0: no limit
	MaxScriptSize int    `toml:"max_script_size"` // bytes of one script
}

// Sieve is the [sieve] section: filtering at delivery. The spam and virus
// keys mirror Pigeonhole's sieve_spamtest_* and sieve_virustest_* settings.
type Sieve struct {
	Enabled bool `toml:"enabled"`
	// Before and After are script files run before and after the user's
	// own script (Pigeonhole's sieve_before and sieve_after).
	Before    []string `toml:"before"`
	After     []string `toml:"after"`
	GlobalDir string   `toml:"global_dir"` // scripts for include :global; "": none

	MaxScriptSize int      `toml:"max_script_size"` // bytes of one script
	MaxActions    int      `toml:"max_actions"`     // actions in one run
	MaxRedirects  int      `toml:"max_redirects"`   // redirects in one run
	MaxCPU        Duration `toml:"max_cpu"`         // time of one run

	// Relay is the SMTP relay (host:port) redirects and vacation replies
	// go to; "" sends nothing (they are logged as not sent).
	Relay     string `toml:"relay"`
	RelayTLS  string `toml:"relay_tls"`  // "starttls", "none" or "tls"
	RelayHelo string `toml:"relay_helo"` // EHLO name; "": the system's host name
	// RedirectEnvelopeFrom is the envelope sender of redirected messages
	// (Pigeonhole's sieve_redirect_envelope_from).
	RedirectEnvelopeFrom string `toml:"redirect_envelope_from"`

	VacationMinPeriod     Duration `toml:"vacation_min_period"`
	VacationDefaultPeriod Duration `toml:"vacation_default_period"`
	VacationMaxPeriod     Duration `toml:"vacation_max_period"` // 0: no maximum

	// SpamHeader and the others: "" (the default) leaves spamtest and
	// virustest answering "not tested". Headers are written
	// "Header-Name" or "Header-Name: regexp" with one capturing group.
	SpamHeader      string   `toml:"spam_header"`
	SpamMaxHeader   string   `toml:"spam_max_header"`
	SpamMaxValue    float64  `toml:"spam_max_value"`
	SpamType        string   `toml:"spam_type"`        // "score", "strlen" or "text"
	SpamTextValues  []string `toml:"spam_text_values"` // "N:text", N from 0 to 10
	VirusHeader     string   `toml:"virus_header"`
	VirusMaxHeader  string   `toml:"virus_max_header"`
	VirusMaxValue   float64  `toml:"virus_max_value"`
	VirusType       string   `toml:"virus_type"`
	VirusTextValues []string `toml:"virus_text_values"` // "N:text", N from 0 to 5
}

// TLS is the [tls] section: both files or neither.
type TLS struct {
	CertFile string `toml:"cert_file"` // PEM certificate chain
	KeyFile  string `toml:"key_file"`  // PEM private key
}

// Auth is the [auth] section.
type Auth struct {
	AllowCleartext string   `toml:"allow_cleartext"` // "loopback", "always" or "never"
	CacheTTL       Duration `toml:"cache_ttl"`       // 0 disables the cache
	CacheSize      int      `toml:"cache_size"`      // entries; 0 disables the cache
}

// Limits is the [limits] section. Sizes are in bytes.
type Limits struct {
	MaxLine               int   `toml:"max_line"`
	MaxMessageSize        int64 `toml:"max_message_size"`
	MaxConnectionsPerIP   int   `toml:"max_connections_per_ip"`   // 0: no limit
	MaxConnectionsPerUser int   `toml:"max_connections_per_user"` // 0: no limit
}

// Log is the [log] section.
type Log struct {
	Level  string `toml:"level"`  // "debug", "info", "warn" or "error"
	Format string `toml:"format"` // "text" or "json"
}

// Quota is the [quota] section.
type Quota struct {
	Default int64 `toml:"default"` // bytes for a new account; 0: unlimited
}

// common returns the defaults that do not depend on whether a config file
// was given.
func common() *Config {
	return &Config{
		DataDir: "./letterbox-data",
		Storage: Storage{
			Backend:         "sqlite",
			BlobBackend:     "sql",
			Compression:     "none",
			BlobFileMinSize: 256 << 10,
			MaxOpenDomains:  256,
			IdleClose:       Duration(10 * time.Minute),
			BlobGrace:       Duration(time.Hour),
			VanishedKeep:    Duration(720 * time.Hour),
		},
		Auth: Auth{
			AllowCleartext: "loopback",
			CacheTTL:       Duration(5 * time.Minute),
			CacheSize:      1024,
		},
		Limits: Limits{
			MaxLine:               65536,
			MaxMessageSize:        50 << 20,
			MaxConnectionsPerIP:   50,
			MaxConnectionsPerUser: 20,
		},
		LMTP:        LMTP{RecipientDelimiter: "+"},
		ManageSieve: ManageSieve{MaxScripts: 25, MaxScriptSize: 1 << 20},
		Sieve:       defaultSieve(),
		Log:         Log{Level: "info", Format: "text"},
	}
}

// defaultSieve is the [sieve] section's defaults, the same with or without
// a file. The lists are empty rather than nil so that WriteTOML writes
// them and a file that sets them to [] compares equal.
func defaultSieve() Sieve {
	return Sieve{
		Enabled:               true,
		Before:                []string{},
		After:                 []string{},
		MaxScriptSize:         1 << 20,
		MaxActions:            32,
		MaxRedirects:          4,
		MaxCPU:                Duration(2 * time.Second),
		RelayTLS:              "starttls",
		RedirectEnvelopeFrom:  "sender",
		VacationMinPeriod:     Duration(24 * time.Hour),
		VacationDefaultPeriod: Duration(7 * 24 * time.Hour),
		SpamType:              "score",
		SpamTextValues:        []string{},
		VirusType:             "score",
		VirusTextValues:       []string{},
	}
}

// noFileDefaults is the configuration of a server started without any
// config file: loopback only, unprivileged ports, implicit TLS off.
func noFileDefaults() *Config {
	c := common()
	c.IMAP.Listen = "127.0.0.1:1143"
	c.POP3.Listen = "127.0.0.1:1110"
	c.LMTP.Listen = "127.0.0.1:2424"
	c.ManageSieve.Listen = "127.0.0.1:4190"
	return c
}

// fileDefaults is what a config file is read over: the standard ports.
// LMTP has no authentication, so its default stays on loopback, where the
// MTA usually runs. The implicit-TLS defaults are filled in afterwards by
// fileDefaultsAfter, once it is known whether TLS is configured.
func fileDefaults() *Config {
	c := common()
	c.IMAP.Listen = ":143"
	c.POP3.Listen = ":110"
	c.LMTP.Listen = "127.0.0.1:24"
	c.ManageSieve.Listen = ":4190"
	return c
}

// fileDefaultsAfter fills in the defaults that depend on other keys, for
// the keys the file did not set.
func fileDefaultsAfter(c *Config, set map[string]bool) {
	tls := c.TLS.CertFile != "" && c.TLS.KeyFile != ""
	if tls && !set["imap.listen_tls"] {
		c.IMAP.ListenTLS = ":993"
	}
	if tls && !set["pop3.listen_tls"] {
		c.POP3.ListenTLS = ":995"
	}
	if c.LMTP.Socket != "" && !set["lmtp.listen"] {
		c.LMTP.Listen = ""
	}
	if c.Storage.Backend == "postgres" && !set["storage.blob_backend"] {
		c.Storage.BlobBackend = "file"
	}
}

func applyEnv(c *Config) {
	if d := os.Getenv(EnvDataDir); d != "" {
		c.DataDir = d
	}
}

// Default returns the configuration used when there is no config file:
// SQLite under ./letterbox-data (or $LETTERBOX_DATA), IMAP on
// 127.0.0.1:1143, POP3 on 127.0.0.1:1110, LMTP on 127.0.0.1:2424,
// ManageSieve on 127.0.0.1:4190, no implicit-TLS listeners, cleartext
// logins on loopback only.
func Default() *Config {
	c := noFileDefaults()
	applyEnv(c)
	return c
}

// Load reads the config file at path over the config-file defaults (the
// standard ports), applies LETTERBOX_DATA, and validates the result. Every
// problem is reported, as *KeyError values joined with errors.Join and
// sorted by key; a TOML syntax error is reported alone.
//
// Relative paths in the file (data_dir, tls.cert_file, tls.key_file,
// lmtp.socket) are relative to the working directory of the process, not to
// the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var tree map[string]any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	c := fileDefaults()
	set := make(map[string]bool)
	var problems []*KeyError
	decodeTable(tree, "", reflectOf(c), set, &problems)
	fileDefaultsAfter(c, set)
	applyEnv(c)
	problems = append(problems, c.check()...)
	if err := join(problems); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate reports every bad value in c, as *KeyError values joined with
// errors.Join and sorted by key, or nil. Load calls it; call it yourself on
// a Config built or changed in code. It checks that the TLS files exist.
func (c *Config) Validate() error {
	return join(c.check())
}

// KeyError is one problem with one key.
type KeyError struct {
	Key     string // dotted name, such as "storage.backend"
	Problem string // what is wrong, such as `"mysql" is not one of sqlite, postgres`
}

func (e *KeyError) Error() string { return "config: " + e.Key + ": " + e.Problem }

// join sorts problems by key (stable: problems with one key keep their
// order) and joins them, or returns nil when there are none.
func join(problems []*KeyError) error {
	if len(problems) == 0 {
		return nil
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Key < problems[j].Key })
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}
