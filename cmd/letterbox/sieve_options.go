package main

import (
	"fmt"
	"os"

	"letterbox/config"
	"letterbox/lmtp"
	"letterbox/outbound"
	"letterbox/sieve"
)

// sieveOptions turns the [sieve] section (and the LMTP recipient
// delimiter, which subaddress shares) into the compiler's options. Every
// place that compiles a script uses it: delivery, ManageSieve, the CLI.
func sieveOptions(c *config.Config) sieve.Options {
	s := c.Sieve
	o := sieve.Options{
		Limits: sieve.Limits{
			MaxScriptSize: s.MaxScriptSize,
			MaxActions:    s.MaxActions,
			MaxRedirects:  s.MaxRedirects,
			MaxCPU:        s.MaxCPU.Std(),
		},
		RecipientDelimiter: c.LMTP.RecipientDelimiter,
		RedirectFrom:       redirectFrom(c.Sieve.RedirectEnvelopeFrom),
		Spamtest: sieve.SpamtestOptions{
			SpamHeader:      s.SpamHeader,
			SpamMaxHeader:   s.SpamMaxHeader,
			SpamMaxValue:    s.SpamMaxValue,
			SpamType:        s.SpamType,
			SpamTextValues:  config.TextValues(s.SpamTextValues),
			VirusHeader:     s.VirusHeader,
			VirusMaxHeader:  s.VirusMaxHeader,
			VirusMaxValue:   s.VirusMaxValue,
			VirusType:       s.VirusType,
			VirusTextValues: config.TextValues(s.VirusTextValues),
		},
		Vacation: sieve.VacationOptions{
			MinPeriod:     s.VacationMinPeriod.Std(),
			DefaultPeriod: s.VacationDefaultPeriod.Std(),
			MaxPeriod:     s.VacationMaxPeriod.Std(),
		},
	}
	if o.Vacation.MinPeriod == 0 {
		o.Vacation.MinPeriod = -1 // the config's 0 is "no minimum"; the package's 0 is "default"
	}
	return o
}

// uploadOptions compile a script a user stores (ManageSieve PUTSCRIPT,
// letterbox sieve put) with the limits and extensions delivery uses. A
// script may include one the user uploads next: as Pigeonhole, includes
// are checked when the script runs, not on upload.
func uploadOptions(c *config.Config) *sieve.Options {
	o := sieveOptions(c)
	o.Uploading = true
	return &o
}

// redirectFrom is the checked form of sieve.redirect_envelope_from
// (config.Load refused a bad value).
func redirectFrom(v string) string {
	r, _ := sieve.ParseRedirectFrom(v)
	return r
}

// lmtpSieve builds delivery-time filtering from the config: the before and
// after scripts compiled once at start (a script that does not compile
// stops the start, with the compiler's message), and the relay.
func lmtpSieve(c *config.Config) (*lmtp.SieveOptions, error) {
	if !c.Sieve.Enabled {
		return nil, nil
	}
	so := &lmtp.SieveOptions{Compile: sieveOptions(c), GlobalDir: c.Sieve.GlobalDir}
	compileAll := func(key string, paths []string) ([]*sieve.Script, error) {
		var out []*sieve.Script
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("sieve.%s: %w", key, err)
			}
			opts := so.Compile
			s, err := sieve.Compile(p, src, &opts)
			if err != nil {
				return nil, fmt.Errorf("sieve.%s: %w", key, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	var err error
	if so.Before, err = compileAll("before", c.Sieve.Before); err != nil {
		return nil, err
	}
	if so.After, err = compileAll("after", c.Sieve.After); err != nil {
		return nil, err
	}
	if c.Sieve.Relay != "" {
		so.Relay = &outbound.Relay{Addr: c.Sieve.Relay, TLS: c.Sieve.RelayTLS, Helo: c.Sieve.RelayHelo}
	}
	return so, nil
}
