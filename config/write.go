package config

import (
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// redacted replaces a password in the output of WriteTOML.
const redacted = "REDACTED"

// WriteTOML writes c as a config file with every key, for
// `letterbox config check`. Loading the output gives c back, except that a
// password in storage.postgres_url is written as REDACTED: the output is
// meant to be shown and pasted.
func (c *Config) WriteTOML(w io.Writer) error {
	out := *c
	out.Storage.PostgresURL = redactPostgres(c.Storage.PostgresURL)
	header := "# Letterbox configuration in effect: every key, defaults included.\n"
	if out.Storage.PostgresURL != c.Storage.PostgresURL {
		header += "# The password in storage.postgres_url is replaced by " + redacted + ".\n"
	}
	if _, err := io.WriteString(w, header+"\n"); err != nil {
		return fmt.Errorf("config: write: %w", err)
	}
	enc := toml.NewEncoder(w)
	enc.Indent = ""
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("config: write: %w", err)
	}
	return nil
}

// kvPassword finds the value of password in a keyword=value connection
// string: single-quoted (with backslash escapes) or up to the next space.
var kvPassword = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']\S*)`)

// redactPostgres returns the connection string s with its password, if
// any, replaced by REDACTED, and s itself when it holds none.
func redactPostgres(s string) string {
	if s == "" {
		return s
	}
	if !strings.Contains(s, "://") {
		return kvPassword.ReplaceAllString(s, "${1}"+redacted)
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted // cannot tell where a password would be
	}
	changed := false
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), redacted)
		changed = true
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", redacted)
		u.RawQuery = q.Encode()
		changed = true
	}
	if !changed {
		return s
	}
	return u.String()
}
