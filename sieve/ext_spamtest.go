package sieve

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// spamtest, spamtestplus and virustest (RFC 5235). The score comes from
// a header the spam or virus scanner added; SpamtestOptions say which
// and how to read it, with the meaning of Pigeonhole's sieve_spamtest_*
// and sieve_virustest_* settings, so that a Dovecot configuration maps
// onto ours one to one.

func init() {
	registerExtension(&extDef{name: "spamtest"})
	registerExtension(&extDef{name: "spamtestplus", implies: []string{"spamtest"}})
	registerExtension(&extDef{name: "virustest"})
	register(&cmdDef{name: "spamtest", ext: "spamtest", isTest: true,
		tags: withTags(matchTags, []tagDef{{name: "percent", ext: "spamtestplus"}}),
		pos:  []argType{aString}, minPos: -1, build: buildSpamtest})
	register(&cmdDef{name: "virustest", ext: "virustest", isTest: true, tags: matchTags,
		pos: []argType{aString}, minPos: -1, build: buildVirustest})
}

type scoreTest struct {
	virus   bool
	percent bool
	m       *matcher
}

func buildSpamtest(c *compiler, a *args) (any, error) {
	m, err := c.matcher(a, a.pos[0])
	if err != nil {
		return nil, err
	}
	return &scoreTest{percent: a.has("percent"), m: m}, nil
}

func buildVirustest(c *compiler, a *args) (any, error) {
	m, err := c.matcher(a, a.pos[0])
	if err != nil {
		return nil, err
	}
	return &scoreTest{virus: true, m: m}, nil
}

func (t *scoreTest) eval(r *runtime) (bool, error) {
	return t.m.match(r, []string{r.scoreValue(t.virus, t.percent)})
}

// scoreSource is one scanner's settings.
type scoreSource struct {
	header, maxHeader string
	maxValue          float64
	typ               string
	texts             []string
	top               int // the highest text value: 10 for spam, 5 for virus
}

func (r *runtime) scoreSource(virus bool) scoreSource {
	var o SpamtestOptions
	if r.script.opts != nil {
		o = r.script.opts.Spamtest
	}
	if virus {
		return scoreSource{o.VirusHeader, o.VirusMaxHeader, o.VirusMaxValue, o.VirusType, o.VirusTextValues, 5}
	}
	return scoreSource{o.SpamHeader, o.SpamMaxHeader, o.SpamMaxValue, o.SpamType, o.SpamTextValues, 10}
}

// scoreValue is the test's value: "0" when the message was not tested
// (or the settings or the header do not allow to tell), else 1..10 for
// spamtest, 1..5 for virustest, 0..100 for :percent (RFC 5235 section
// 3). Scaling truncates, in single precision, as Pigeonhole does, so
// that the same header gives the same answer.
func (r *runtime) scoreValue(virus, percent bool) string {
	ratio, ok := r.scoreRatio(r.scoreSource(virus))
	if !ok {
		return "0"
	}
	var v float32
	switch {
	case percent:
		v = ratio*100 + 0.001
	case virus:
		v = ratio*4 + 1.001
	default:
		v = ratio*9 + 1.001
	}
	return strconv.Itoa(int(v))
}

// scoreRatio reads the score as a fraction of the maximum.
func (r *runtime) scoreRatio(s scoreSource) (float32, bool) {
	if s.header == "" {
		return 0, false
	}
	var max float32
	switch s.typ {
	case "", "score", "strlen":
		switch {
		case s.maxHeader != "" && s.maxValue != 0, s.maxHeader == "" && s.maxValue == 0:
			return 0, false // misconfigured: exactly one of them is needed
		case s.maxHeader != "":
			v, ok := r.scoreHeader(s.maxHeader)
			if !ok {
				return 0, false
			}
			if max, ok = parseScore(v); !ok {
				return 0, false
			}
		default:
			max = float32(s.maxValue)
		}
		if max == 0 {
			return 0, false
		}
	case "text":
		max = float32(s.top)
	default:
		return 0, false
	}
	v, ok := r.scoreHeader(s.header)
	if !ok {
		return 0, false
	}
	var score float32
	switch s.typ {
	case "", "score":
		if score, ok = parseScore(v); !ok {
			return 0, false
		}
	case "strlen":
		// A run of one repeated character ("*****"): its length.
		if strings.Trim(v, v[:min(1, len(v))]) != "" {
			return 0, false
		}
		score = float32(len(v))
	case "text":
		i := 0
		for ; i <= s.top; i++ {
			if i < len(s.texts) && s.texts[i] != "" && s.texts[i] == v {
				break
			}
		}
		if i > s.top {
			return 0, false
		}
		score = float32(i)
	}
	switch {
	case score < 0:
		return 0, true
	case score > max:
		return 1, true
	}
	return score / max, true
}

// scoreHeader reads a header setting ("Name" or "Name: regexp") from
// the first such field of the message.
func (r *runtime) scoreHeader(spec string) (string, bool) {
	spec = strings.TrimLeft(spec, " \t")
	name, expr, hasExpr := spec, "", false
	if i := strings.IndexAny(spec, ": \t"); i >= 0 {
		name = spec[:i]
		rest := strings.TrimLeft(spec[i:], " \t")
		if rest != "" {
			if rest[0] != ':' {
				return "", false
			}
			expr, hasExpr = strings.TrimLeft(rest[1:], " \t"), true
		}
	}
	vals := r.msg.headerValues(name)
	if len(vals) == 0 {
		return "", false
	}
	v := vals[0]
	if !hasExpr {
		return v, true
	}
	re, err := scoreRegex(expr)
	if err != nil {
		return "", false
	}
	m := re.FindStringSubmatch(v)
	if len(m) < 2 {
		return "", false
	}
	return m[1], true
}

var scoreRegexes sync.Map // expression -> *regexp.Regexp

// scoreRegex compiles a header setting's POSIX regular expression once.
func scoreRegex(expr string) (*regexp.Regexp, error) {
	if re, ok := scoreRegexes.Load(expr); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.CompilePOSIX(expr)
	if err != nil {
		if re, err = regexp.Compile(expr); err != nil {
			return nil, err
		}
	}
	scoreRegexes.Store(expr, re)
	return re, nil
}

// parseScore reads a decimal such as "-3.5" or "7,25": at most five
// digits on either side of the point, nothing else.
func parseScore(s string) (float32, bool) {
	if s == "" {
		return 0, false
	}
	sign := float32(1)
	if s[0] == '+' || s[0] == '-' {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	intPart, frac, hasFrac := s, "", false
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		intPart, frac, hasFrac = s[:i], s[i+1:], true
	}
	if len(intPart) > 5 || len(frac) > 5 {
		return 0, false
	}
	var v float32
	for i := 0; i < len(intPart); i++ {
		if !isDigit(intPart[i]) {
			return 0, false
		}
		v = v*10 + float32(intPart[i]-'0')
	}
	radix := float32(0.1)
	for i := 0; hasFrac && i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return 0, false
		}
		v += float32(frac[i]-'0') * radix
		radix /= 10
	}
	return v * sign, true
}
