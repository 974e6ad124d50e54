package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// minMaxLine is the smallest limits.max_line accepted: RFC 7162 section 4
// recommends that servers accept command lines of at least 8192 octets.
const minMaxLine = 8192

// minBlobGrace is the smallest storage.blob_grace accepted. A blob is
// written before the row that references it commits; the grace period must
// outlast that window (a large delivery or APPEND), or the sweeper could
// remove a blob about to be referenced.
const minBlobGrace = time.Minute

// maxScriptSize bounds managesieve.max_script_size: a script is held in
// memory whole while it is uploaded and compiled.
const maxScriptSize = 64 << 20

// maxSocketPath is the longest unix socket path Linux accepts (sun_path is
// 108 bytes, with the terminating NUL).
const maxSocketPath = 107

// check returns every problem with c, in no particular order.
func (c *Config) check() []*KeyError {
	var ps []*KeyError
	bad := func(key, format string, args ...any) {
		ps = append(ps, &KeyError{Key: key, Problem: fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, val string, allowed ...string) {
		if !slices.Contains(allowed, val) {
			bad(key, "%q is not one of %s", val, strings.Join(allowed, ", "))
		}
	}
	atLeast := func(key string, val, low int64) {
		if val < low {
			bad(key, "%d is less than %d", val, low)
		}
	}

	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}

	s := &c.Storage
	oneOf("storage.backend", s.Backend, "sqlite", "postgres")
	if s.Backend == "postgres" && s.PostgresURL == "" {
		bad("storage.postgres_url", "must be set when storage.backend is \"postgres\"")
	}
	if s.PostgresURL != "" {
		if p := checkPostgresURL(s.PostgresURL); p != "" {
			bad("storage.postgres_url", "%s", p)
		}
	}
	oneOf("storage.blob_backend", s.BlobBackend, "sql", "file")
	oneOf("storage.compression", s.Compression, "none", "zstd")
	atLeast("storage.blob_file_min_size", s.BlobFileMinSize, 0)
	atLeast("storage.max_open_domains", int64(s.MaxOpenDomains), 1)
	if s.IdleClose <= 0 {
		bad("storage.idle_close", "%s is not positive", s.IdleClose)
	}
	if s.BlobGrace.Std() < minBlobGrace {
		bad("storage.blob_grace", "%s is shorter than %s: the sweeper could remove a blob whose message is still being stored", s.BlobGrace, Duration(minBlobGrace))
	}
	if s.VanishedKeep <= 0 {
		bad("storage.vanished_keep", "%s is not positive", s.VanishedKeep)
	}

	tlsOn := c.TLS.CertFile != "" && c.TLS.KeyFile != ""
	addrs := []struct{ key, addr string }{
		{"imap.listen", c.IMAP.Listen},
		{"imap.listen_tls", c.IMAP.ListenTLS},
		{"pop3.listen", c.POP3.Listen},
		{"pop3.listen_tls", c.POP3.ListenTLS},
		{"lmtp.listen", c.LMTP.Listen},
		{"managesieve.listen", c.ManageSieve.Listen},
	}
	used := make(map[string]string)
	for _, a := range addrs {
		if a.addr == "" {
			continue
		}
		if p := checkAddr(a.addr); p != "" {
			bad(a.key, "%s", p)
			continue
		}
		if strings.HasSuffix(a.key, "_tls") && !tlsOn {
			bad(a.key, "%q needs tls.cert_file and tls.key_file (set them, or set this key to \"\")", a.addr)
		}
		if _, port, _ := net.SplitHostPort(a.addr); port == "0" {
			continue // an ephemeral port never collides
		}
		if other, ok := used[a.addr]; ok {
			bad(a.key, "%q is also %s", a.addr, other)
			continue
		}
		used[a.addr] = a.key
	}
	if sock := c.LMTP.Socket; sock != "" {
		switch {
		case strings.ContainsRune(sock, 0):
			bad("lmtp.socket", "contains a NUL byte")
		case len(sock) > maxSocketPath:
			bad("lmtp.socket", "%q is %d bytes long; a unix socket path may have at most %d", sock, len(sock), maxSocketPath)
		case strings.HasSuffix(sock, "/"):
			bad("lmtp.socket", "%q is a directory, not a socket path", sock)
		}
	}

	if h := c.LMTP.Hostname; h != "" && !isHostname(h) {
		bad("lmtp.hostname", "%q is not a host name", h)
	}
	if p := checkDelimiter(c.LMTP.RecipientDelimiter); p != "" {
		bad("lmtp.recipient_delimiter", "%s", p)
	}

	switch {
	case c.TLS.CertFile != "" && c.TLS.KeyFile == "":
		bad("tls.key_file", "must be set when tls.cert_file is set")
	case c.TLS.CertFile == "" && c.TLS.KeyFile != "":
		bad("tls.cert_file", "must be set when tls.key_file is set")
	}
	for _, f := range []struct{ key, path string }{
		{"tls.cert_file", c.TLS.CertFile},
		{"tls.key_file", c.TLS.KeyFile},
	} {
		if f.path != "" {
			if p := checkFile(f.path); p != "" {
				bad(f.key, "%s", p)
			}
		}
	}

	atLeast("managesieve.max_scripts", int64(c.ManageSieve.MaxScripts), 0)
	atLeast("managesieve.max_script_size", int64(c.ManageSieve.MaxScriptSize), 1)
	if c.ManageSieve.MaxScriptSize > maxScriptSize {
		bad("managesieve.max_script_size", "%d is more than %d", c.ManageSieve.MaxScriptSize, maxScriptSize)
	}

	oneOf("auth.allow_cleartext", c.Auth.AllowCleartext, "loopback", "always", "never")
	if c.Auth.CacheTTL < 0 {
		bad("auth.cache_ttl", "%s is negative", c.Auth.CacheTTL)
	}
	atLeast("auth.cache_size", int64(c.Auth.CacheSize), 0)

	atLeast("limits.max_line", int64(c.Limits.MaxLine), minMaxLine)
	atLeast("limits.max_message_size", c.Limits.MaxMessageSize, 1)
	atLeast("limits.max_connections_per_ip", int64(c.Limits.MaxConnectionsPerIP), 0)
	atLeast("limits.max_connections_per_user", int64(c.Limits.MaxConnectionsPerUser), 0)

	oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf("log.format", c.Log.Format, "text", "json")

	atLeast("quota.default", c.Quota.Default, 0)

	ps = append(ps, c.Sieve.check()...)
	return ps
}

// checkAddr says what is wrong with a listen address, or returns "".
func checkAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if _, perr := strconv.ParseUint(addr, 10, 16); perr == nil {
			return fmt.Sprintf("%q is not host:port (write \":%s\" for all interfaces)", addr, addr)
		}
		return fmt.Sprintf("%q is not host:port", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("in %q, port %q is not a number from 0 to 65535", addr, port)
	}
	if host == "" {
		return ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	if !isHostname(host) {
		return fmt.Sprintf("in %q, host %q is neither an IP address nor a host name", addr, host)
	}
	return ""
}

// isHostname reports whether s is a syntactically valid DNS host name.
func isHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// maxDelimiters bounds lmtp.recipient_delimiter; Postfix and Dovecot
// setups use one or two characters.
const maxDelimiters = 8

// checkDelimiter says what is wrong with a recipient delimiter set, or
// returns "". Each character must be one that can appear in a dot-atom
// local part (RFC 5322 section 3.2.3) and is neither a letter nor a digit:
// a letter would split ordinary names.
func checkDelimiter(d string) string {
	if len(d) > maxDelimiters {
		return fmt.Sprintf("%q has more than %d characters", d, maxDelimiters)
	}
	for _, r := range d {
		if !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r) {
			return fmt.Sprintf("%q: %q cannot separate a local part from its detail (use characters such as + - _ .)", d, r)
		}
	}
	return ""
}

// checkFile says why path is not a readable regular file, or returns "".
func checkFile(path string) string {
	fi, why := statPath(path)
	if why == "" && fi.IsDir() {
		why = fmt.Sprintf("%q is a directory", path)
	}
	return why
}

// statPath says why path cannot be used at all, or returns its FileInfo.
func statPath(path string) (fs.FileInfo, string) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Sprintf("%q does not exist", path)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Sprintf("cannot use %q: %v", path, err)
	}
	return fi, ""
}

// checkPostgresURL says what is wrong with a PostgreSQL connection string,
// or returns "". The answer never quotes the string: it may hold a password.
func checkPostgresURL(s string) string {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "is not a valid URL"
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return fmt.Sprintf("URL scheme %q is not postgres or postgresql", u.Scheme)
		}
		return ""
	}
	if !strings.Contains(s, "=") {
		return "is neither a URL (postgres://user@host/dbname) nor keyword=value settings (host=... dbname=...)"
	}
	return ""
}
