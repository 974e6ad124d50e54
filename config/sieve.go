package config

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"letterbox/sieve"
)

// Spam and virus scores as RFC 5235 section 3 defines them: spamtest
// answers 0 to 10, virustest 0 to 5.
const (
	maxSpamValue  = 10
	maxVirusValue = 5
)

// check returns every problem with the [sieve] section.
func (s *Sieve) check() []*KeyError {
	var ps []*KeyError
	bad := func(key, format string, args ...any) {
		ps = append(ps, &KeyError{Key: "sieve." + key, Problem: fmt.Sprintf(format, args...)})
	}

	for _, list := range []struct {
		key   string
		paths []string
	}{{"before", s.Before}, {"after", s.After}} {
		for i, p := range list.paths {
			if p == "" {
				bad(list.key, "element %d is empty", i+1)
			} else if why := checkFile(p); why != "" {
				bad(list.key, "%s", why)
			}
		}
	}
	if s.GlobalDir != "" {
		if why := checkDir(s.GlobalDir); why != "" {
			bad("global_dir", "%s", why)
		}
	}

	if s.MaxScriptSize < 1 {
		bad("max_script_size", "%d is less than 1", s.MaxScriptSize)
	} else if s.MaxScriptSize > maxScriptSize {
		bad("max_script_size", "%d is more than %d", s.MaxScriptSize, maxScriptSize)
	}
	if s.MaxActions < 1 {
		bad("max_actions", "%d is less than 1", s.MaxActions)
	}
	if s.MaxRedirects < 1 {
		bad("max_redirects", "%d is less than 1", s.MaxRedirects)
	}
	if s.MaxCPU <= 0 {
		bad("max_cpu", "%s is not positive", s.MaxCPU)
	}

	if s.Relay != "" {
		if why := checkRelay(s.Relay); why != "" {
			bad("relay", "%s", why)
		}
	}
	if !slices.Contains([]string{"starttls", "none", "tls"}, s.RelayTLS) {
		bad("relay_tls", "%q is not one of starttls, none, tls", s.RelayTLS)
	}
	if s.RelayHelo != "" && !isHostname(s.RelayHelo) {
		bad("relay_helo", "%q is not a host name", s.RelayHelo)
	}
	if _, err := sieve.ParseRedirectFrom(s.RedirectEnvelopeFrom); err != nil {
		bad("redirect_envelope_from", "%v", err)
	}

	// As Pigeonhole's sieve_vacation_*_period: the default lies between
	// the minimum and the maximum, and a maximum of 0 is none.
	minP, defP, maxP := s.VacationMinPeriod, s.VacationDefaultPeriod, s.VacationMaxPeriod
	switch {
	case minP < 0:
		bad("vacation_min_period", "%s is negative", minP)
	case defP < minP:
		bad("vacation_default_period", "%s is shorter than vacation_min_period (%s)", defP, minP)
	}
	switch {
	case maxP < 0:
		bad("vacation_max_period", "%s is negative", maxP)
	case maxP > 0 && maxP < defP:
		bad("vacation_max_period", "%s is shorter than vacation_default_period (%s); 0s is no maximum", maxP, defP)
	}

	ps = append(ps, checkScanner("spam", s.SpamHeader, s.SpamMaxHeader, s.SpamMaxValue, s.SpamType, s.SpamTextValues, maxSpamValue)...)
	ps = append(ps, checkScanner("virus", s.VirusHeader, s.VirusMaxHeader, s.VirusMaxValue, s.VirusType, s.VirusTextValues, maxVirusValue)...)
	return ps
}

// checkScanner checks the keys of one scanner, spam_* or virus_*.
func checkScanner(prefix, header, maxHeader string, maxValue float64, typ string, texts []string, top int) []*KeyError {
	var ps []*KeyError
	bad := func(key, format string, args ...any) {
		ps = append(ps, &KeyError{Key: "sieve." + prefix + "_" + key, Problem: fmt.Sprintf(format, args...)})
	}
	if header != "" {
		if why := checkStatusHeader(header); why != "" {
			bad("header", "%s", why)
		}
	}
	if maxHeader != "" {
		if why := checkStatusHeader(maxHeader); why != "" {
			bad("max_header", "%s", why)
		}
	}
	if math.IsNaN(maxValue) || math.IsInf(maxValue, 0) || maxValue < 0 {
		bad("max_value", "%v is not a number of 0 or more", maxValue)
	}
	if !slices.Contains([]string{"score", "strlen", "text"}, typ) {
		bad("type", "%q is not one of score, strlen, text", typ)
	}
	seen := make(map[int]bool)
	for i, tv := range texts {
		n, _, why := parseTextValue(tv, top)
		switch {
		case why != "":
			bad("text_values", "element %d: %s", i+1, why)
		case seen[n]:
			bad("text_values", "element %d: value %d is given twice", i+1, n)
		}
		seen[n] = true
	}
	// A scanner that is configured must be able to produce a value.
	if header == "" {
		return ps
	}
	switch typ {
	case "score", "strlen":
		if maxValue == 0 && maxHeader == "" {
			bad("max_value", "must be set (or %[1]s_max_header) when %[1]s_header is set and %[1]s_type is %[2]q", prefix, typ)
		}
	case "text":
		if len(texts) == 0 {
			bad("text_values", "must list at least one \"N:text\" when %s_type is \"text\"", prefix)
		}
	}
	return ps
}

// TextValues returns spam_text_values or virus_text_values, once
// validated, as a list whose element N is the text that stands for value
// N ("" for none), as sieve.SpamtestOptions takes them: ["1:No", "10:Yes"]
// gives ["", "No", "", ..., "", "Yes"].
func TextValues(list []string) []string {
	var out []string
	for _, tv := range list {
		n, text, why := parseTextValue(tv, maxSpamValue)
		if why != "" {
			continue
		}
		for len(out) <= n {
			out = append(out, "")
		}
		out[n] = text
	}
	return out
}

// parseTextValue splits "N:text" (Pigeonhole's sieve_spamtest_text_valueN
// = text) into N, from 0 to top, and the text, or says what is wrong.
func parseTextValue(tv string, top int) (int, string, string) {
	num, text, ok := strings.Cut(tv, ":")
	if !ok {
		return 0, "", fmt.Sprintf("%q is not \"N:text\" (such as \"10:Yes\")", tv)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 || n > top {
		return 0, "", fmt.Sprintf("in %q, %q is not a value from 0 to %d", tv, num, top)
	}
	if text == "" {
		return 0, "", fmt.Sprintf("%q has no text after the colon", tv)
	}
	return n, text, ""
}

// checkStatusHeader says what is wrong with "Header-Name" or
// "Header-Name: regexp", or returns "". As in Pigeonhole, white space after
// the colon is not part of the expression, and the expression must have a
// group capturing the value. The expression is POSIX extended, as
// Pigeonhole's; Go's own syntax is accepted too (package sieve reads it
// the same way).
func checkStatusHeader(h string) string {
	name, re, hasRE := strings.Cut(h, ":")
	name = strings.TrimSpace(name)
	if name == "" {
		return fmt.Sprintf("%q has no header name", h)
	}
	for _, c := range name {
		// RFC 5322 section 3.6.8: printable US-ASCII except the colon.
		if c < 33 || c > 126 {
			return fmt.Sprintf("%q is not a header name", name)
		}
	}
	if !hasRE {
		return ""
	}
	re = strings.TrimLeft(re, " \t")
	if re == "" {
		return fmt.Sprintf("%q has an empty regular expression after the colon", h)
	}
	x, err := regexp.CompilePOSIX(re)
	if err != nil {
		if x, err = regexp.Compile(re); err != nil {
			return fmt.Sprintf("regular expression %q: %v", re, err)
		}
	}
	if x.NumSubexp() < 1 {
		return fmt.Sprintf("regular expression %q has no group (...) to capture the value", re)
	}
	return ""
}

// checkRelay says what is wrong with an SMTP relay address, or returns "".
func checkRelay(addr string) string {
	if why := checkAddr(addr); why != "" {
		return why
	}
	host, port, _ := net.SplitHostPort(addr)
	switch {
	case host == "":
		return fmt.Sprintf("%q has no host (write \"127.0.0.1:%s\" for this host)", addr, port)
	case port == "0":
		return fmt.Sprintf("%q: port 0 cannot be connected to", addr)
	}
	return ""
}

// checkDir says why path is not a directory that can be read, or returns "".
func checkDir(path string) string {
	fi, why := statPath(path)
	if why == "" && !fi.IsDir() {
		why = fmt.Sprintf("%q is not a directory", path)
	}
	return why
}
