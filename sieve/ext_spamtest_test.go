package sieve

import "testing"

const spamMsg = `From: a@example.com
X-Spam-Score: 7.5
X-Spam-Level: *******
X-Spam-Report: Spam, score=-3.2 required=5.0
X-Spam-Max: 15
X-Spam-Verdict: Spam
X-Virus: Almost Certain

Buy
`

func TestSpamtest(t *testing.T) {
	score := func(o SpamtestOptions, script string) string {
		return xRun(t, `require ["spamtestplus","virustest","variables","fileinto"]; `+script, xInput{msg: spamMsg, opts: &Options{Spamtest: o}})
	}
	for _, c := range []struct {
		o      SpamtestOptions
		script string
		want   string
	}{
		// RFC 5235 section 3.2: 1 + 9 * 7.5/10, truncated.
		{SpamtestOptions{SpamHeader: "X-Spam-Score", SpamMaxValue: 10}, `if spamtest :matches "*" { fileinto "${1}"; }`, "7"},
		{SpamtestOptions{SpamHeader: "X-Spam-Score", SpamMaxValue: 10}, `if spamtest :percent :matches "*" { fileinto "${1}"; }`, "75"},
		{SpamtestOptions{SpamHeader: "X-Spam-Score", SpamMaxHeader: "X-Spam-Max"}, `if spamtest :matches "*" { fileinto "${1}"; }`, "5"},
		{SpamtestOptions{SpamHeader: "X-Spam-Level", SpamType: "strlen", SpamMaxValue: 5}, `if spamtest :matches "*" { fileinto "${1}"; }`, "10"},
		// A negative score is the lowest "tested" value.
		{SpamtestOptions{SpamHeader: `X-Spam-Report: score=(-?[[:digit:]]+\.[[:digit:]])`, SpamMaxValue: 5}, `if spamtest :matches "*" { fileinto "${1}"; }`, "1"},
		{SpamtestOptions{SpamHeader: "X-Spam-Verdict", SpamType: "text", SpamTextValues: []string{"", "Ham", "", "", "", "", "", "", "", "", "Spam"}},
			`if spamtest :matches "*" { fileinto "${1}"; }`, "10"},
		// Not configured, header missing, both maxima: "0".
		{SpamtestOptions{}, `if spamtest :is "0" { fileinto "untested"; }`, "untested"},
		{SpamtestOptions{SpamHeader: "X-None", SpamMaxValue: 10}, `if spamtest :is "0" { fileinto "untested"; }`, "untested"},
		{SpamtestOptions{SpamHeader: "X-Spam-Score", SpamMaxValue: 10, SpamMaxHeader: "X-Spam-Max"}, `if spamtest :is "0" { fileinto "untested"; }`, "untested"},
		// virustest: 1 + 4 * 4/5 for the fourth text value.
		{SpamtestOptions{VirusHeader: "X-Virus", VirusType: "text", VirusTextValues: []string{"", "Clean", "", "", "Almost Certain", "Infected"}},
			`if virustest :matches "*" { fileinto "${1}"; }`, "4"},
	} {
		if got := score(c.o, c.script); got != c.want {
			t.Errorf("%+v %s: got %q, want %q", c.o, c.script, got, c.want)
		}
	}
	if _, err := Compile("t", []byte(`require "spamtest"; if spamtest :percent "5" {}`), nil); err == nil {
		t.Error(":percent without spamtestplus compiled")
	}
}

func TestParseScore(t *testing.T) {
	for s, want := range map[string]float32{"7.5": 7.5, "-3": -3, "+2,5": 2.5, ".5": 0.5, "12345.5": 12345.5} {
		if v, ok := parseScore(s); !ok || v != want {
			t.Errorf("parseScore(%q) = %v %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "x", "123456", "1.234567", "1e3"} {
		if _, ok := parseScore(s); ok {
			t.Errorf("parseScore(%q) accepted", s)
		}
	}
}
