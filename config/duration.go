package config

import (
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration written in the config file as a string that
// time.ParseDuration understands ("90s", "10m", "1h30m", "720h").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d the way the config file writes it, without the zero
// units time.Duration.String adds ("1h", not "1h0m0s").
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write a number and a unit, such as \"90s\", \"10m\" or \"1h\")", text)
	}
	*d = Duration(v)
	return nil
}
