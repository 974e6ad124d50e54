package sieve

import (
	"context"
	"mime"
	"strings"
	"testing"
	"time"
)

type seenSet map[string]bool

func (s seenSet) Seen(kind, key string) bool { return s[kind+"/"+key] }

func runVacation(t *testing.T, script, msg string, env Envelope, opts *Options, tr Tracker) *Result {
	t.Helper()
	s, err := Compile("t", []byte(script), opts)
	if err != nil {
		t.Fatalf("compile %q: %v", script, err)
	}
	m, err := ParseMessage([]byte(strings.ReplaceAll(msg, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 15, 12, 0, 0, 0, time.UTC)
	return s.Run(context.Background(), &Input{Message: m, Envelope: env, Tracker: tr, Now: now})
}

func vacationOf(res *Result) *Vacation {
	for _, a := range res.Actions {
		if v, ok := a.(*Vacation); ok {
			return v
		}
	}
	return nil
}

// replyHeader returns the decoded value of a field of a composed reply.
func replyHeader(t *testing.T, v *Vacation, name string) string {
	t.Helper()
	m, err := ParseMessage(v.Reply)
	if err != nil {
		t.Fatal(err)
	}
	vals := m.headerValues(name)
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

const vacMsg = `From: "Sam Sender" <sam@example.org>
To: Robin <robin@example.com>
Subject: Lunch on Friday
Message-ID: <m1@example.org>
References: <m0@example.org>

Shall we?
`

var vacEnv = Envelope{From: "sam@example.org", To: "robin@example.com"}

func TestVacationRFCExamples(t *testing.T) {
	// RFC 5230 section 4 (the first example).
	script := `require "vacation";
if header :contains "subject" "cyrus" {
    vacation "I'm out -- send mail to cyrus-bugs";
} else {
    vacation "I'm out -- call me at +1 304 555 0123";
}`
	res := runVacation(t, script, vacMsg, vacEnv, nil, nil)
	v := vacationOf(res)
	if res.Err != nil || v == nil || !res.ImplicitKeep {
		t.Fatalf("no reply: %+v", res)
	}
	if v.To != "sam@example.org" || v.From != "" || v.Period != 7*24*time.Hour {
		t.Errorf("envelope %q -> %q, period %v", v.From, v.To, v.Period)
	}
	if v.Handle != "I'm out -- call me at +1 304 555 0123<default-subject><default-from><NO-MIME>" {
		t.Errorf("handle %q", v.Handle)
	}
	want := map[string]string{
		"from": "<robin@example.com>", "to": `"Sam Sender" <sam@example.org>`,
		"subject": "Auto: Lunch on Friday", "in-reply-to": "<m1@example.org>",
		"references": "<m0@example.org> <m1@example.org>", "auto-submitted": "auto-replied (vacation)",
		"content-type": "text/plain; charset=utf-8",
	}
	for k, w := range want {
		if got := replyHeader(t, v, k); got != w {
			t.Errorf("%s: %q, want %q", k, got, w)
		}
	}
	if !strings.HasSuffix(string(v.Reply), "\r\n\r\nI'm out -- call me at +1 304 555 0123\r\n") {
		t.Errorf("reply body: %q", v.Reply)
	}
	if strings.Contains(strings.ReplaceAll(string(v.Reply), "\r\n", ""), "\n") {
		t.Error("bare LF in reply")
	}
	if len(res.Track) != 1 || res.Track[0].Kind != "vacation" || res.Track[0].Period != v.Period {
		t.Errorf("track %+v", res.Track)
	}

	// RFC 5230 section 4.5: :addresses names the user's other address.
	script = `require "vacation";
vacation :days 23 :addresses ["tjs@example.edu", "ts4z@landru.example.edu"]
   "I'm away until October 19.  If it's an emergency, call 911, I guess." ;`
	msg := strings.Replace(vacMsg, "To: Robin <robin@example.com>", "To: ts4z@landru.example.edu", 1)
	v = vacationOf(runVacation(t, script, msg, vacEnv, nil, nil))
	if v == nil || v.Period != 23*24*time.Hour || replyHeader(t, v, "from") != "<ts4z@landru.example.edu>" {
		t.Fatalf("reply %+v", v)
	}

	// RFC 5230 section 4.4: the :mime reason is a MIME entity.
	script = `require "vacation";
vacation :mime text:
Content-Type: multipart/alternative; boundary=foo

--foo

I'm at the beach relaxing.  Mmmm, surf...

--foo
Content-Type: text/html; charset=us-ascii

<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.0//EN"
 "http://www.w3.org/TR/REC-html40/strict.dtd">
<HTML><HEAD><TITLE>How to relax</TITLE>
<BASE HREF="http://home.example.com/pictures/"></HEAD>
<BODY><P>I'm at the <A HREF="beach.gif">beach</A> relaxing.
Mmmm, <A HREF="ocean.gif">surf</A>...
</BODY></HTML>

--foo--
.
;`
	v = vacationOf(runVacation(t, script, vacMsg, vacEnv, nil, nil))
	if v == nil || replyHeader(t, v, "content-type") != "multipart/alternative; boundary=foo" {
		t.Fatalf("mime reply %q", v.Reply)
	}
	if !strings.HasSuffix(v.Handle, "<MIME>") {
		t.Errorf("handle %q", v.Handle)
	}

	// RFC 5230 section 4.3: :subject and :from.
	script = `require "vacation";
vacation :subject "Gone fishin'" :from "Robin <robin.r@example.com>" :handle "fish" "Back soon";`
	v = vacationOf(runVacation(t, script, vacMsg, vacEnv, nil, nil))
	if v == nil || replyHeader(t, v, "subject") != "Gone fishin'" || replyHeader(t, v, "from") != `"Robin" <robin.r@example.com>` || v.Handle != "fish" {
		t.Fatalf("reply %+v %q", v, v.Reply)
	}
}

func TestVacationNoReply(t *testing.T) {
	hdr := func(h string) string { return strings.Replace(vacMsg, "Subject:", h+"\nSubject:", 1) }
	cases := []struct {
		name string
		msg  string
		env  Envelope
		opts *Options
	}{
		{"null sender", vacMsg, Envelope{To: "robin@example.com"}, nil},
		{"own address", vacMsg, Envelope{From: "Robin@Example.com", To: "robin@example.com"}, nil},
		{"list-id", hdr("List-Id: <dev.lists.example.org>"), vacEnv, nil},
		{"list-unsubscribe", hdr("List-Unsubscribe: <mailto:x@example.org>"), vacEnv, nil},
		{"precedence bulk", hdr("Precedence: bulk"), vacEnv, nil},
		{"precedence junk", hdr("Precedence: Junk"), vacEnv, nil},
		{"precedence list", hdr("Precedence: list"), vacEnv, nil},
		{"auto-submitted", hdr("Auto-Submitted: auto-generated"), vacEnv, nil},
		{"auto-replied", hdr("Auto-Submitted: auto-replied; owner-email=x@example.org"), vacEnv, nil},
		{"x-auto-response-suppress", hdr("X-Auto-Response-Suppress: DR, OOF"), vacEnv, nil},
		{"mailer-daemon", vacMsg, Envelope{From: "MAILER-DAEMON@example.org", To: "robin@example.com"}, nil},
		{"owner-", vacMsg, Envelope{From: "owner-dev@example.org", To: "robin@example.com"}, nil},
		{"-request", vacMsg, Envelope{From: "dev-request@example.org", To: "robin@example.com"}, nil},
		{"not addressed", strings.Replace(vacMsg, "robin@example.com", "all@example.com", 1), vacEnv, nil},
		{"original recipient not enabled", strings.Replace(vacMsg, "robin@example.com", "all@example.com", 1),
			Envelope{From: "sam@example.org", To: "robin@example.com", OrigTo: "all@example.com"}, nil},
	}
	for _, c := range cases {
		res := runVacation(t, `require "vacation"; vacation "Away";`, c.msg, c.env, c.opts, nil)
		if res.Err != nil || vacationOf(res) != nil || len(res.Track) != 0 || !res.ImplicitKeep {
			t.Errorf("%s: replied or failed: %+v", c.name, res)
		}
	}
	// The same message answered: "Auto-Submitted: no", Precedence normal,
	// Cc, Resent-To, the original recipient when enabled, the user's
	// address, any recipient when checking is off.
	notTo := strings.Replace(vacMsg, "robin@example.com", "all@example.com", 1)
	for _, c := range []struct {
		name string
		msg  string
		env  Envelope
		opts *Options
		from string
	}{
		{"auto-submitted no", hdr("Auto-Submitted: no (person)\nPrecedence: normal"), vacEnv, nil, "robin@example.com"},
		{"cc", hdr("Cc: x@example.net, ROBIN@example.COM"), vacEnv, nil, "robin@example.com"},
		{"resent-to", strings.Replace(notTo, "Subject:", "Resent-To: robin@example.com\nSubject:", 1), vacEnv, nil, "robin@example.com"},
		{"original recipient", notTo, Envelope{From: "sam@example.org", To: "robin@example.com", OrigTo: "all@example.com"},
			&Options{Vacation: VacationOptions{UseOriginalRecipient: true}}, "all@example.com"},
		{"user email", notTo, vacEnv, &Options{UserEmail: "all@example.com"}, "all@example.com"},
		{"any recipient", notTo, vacEnv, &Options{Vacation: VacationOptions{DontCheckRecipient: true}}, "robin@example.com"},
	} {
		res := runVacation(t, `require "vacation"; vacation "Away";`, c.msg, c.env, c.opts, nil)
		v := vacationOf(res)
		if v == nil {
			t.Errorf("%s: no reply: %+v", c.name, res)
			continue
		}
		if got := replyHeader(t, v, "from"); got != "<"+c.from+">" {
			t.Errorf("%s: From %q, want %q", c.name, got, c.from)
		}
	}
}

func TestVacationTracking(t *testing.T) {
	script := `require "vacation"; vacation :days 2 "Away";`
	res := runVacation(t, script, vacMsg, vacEnv, nil, nil)
	if len(res.Track) != 1 || res.Track[0].Period != 48*time.Hour {
		t.Fatalf("track %+v", res.Track)
	}
	key := res.Track[0].Key
	// RFC 5230 section 4.2: no second reply to the same sender with the
	// same handle within the period.
	res = runVacation(t, script, vacMsg, vacEnv, nil, seenSet{"vacation/" + key: true})
	if vacationOf(res) != nil || len(res.Track) != 0 {
		t.Errorf("replied again: %+v", res)
	}
	// Another sender or another handle is another reply.
	other := runVacation(t, script, vacMsg, Envelope{From: "SAM@example.org", To: "robin@example.com"}, nil, nil)
	if other.Track[0].Key != key {
		t.Error("sender case changed the key")
	}
	other = runVacation(t, `require "vacation"; vacation :days 2 "Away!";`, vacMsg, vacEnv, nil, nil)
	if other.Track[0].Key == key {
		t.Error("another reason has the same key")
	}
}

func TestVacationPeriods(t *testing.T) {
	o := func(min, def, max time.Duration) *Options {
		return &Options{Vacation: VacationOptions{MinPeriod: min, DefaultPeriod: def, MaxPeriod: max}}
	}
	cases := []struct {
		script string
		opts   *Options
		want   time.Duration
	}{
		{`require "vacation"; vacation "x";`, nil, 7 * day},
		{`require "vacation"; vacation :days 0 "x";`, nil, day},
		{`require "vacation"; vacation :days 400 "x";`, o(0, 0, 30*day), 30 * day},
		{`require "vacation"; vacation "x";`, o(0, 3*day, 0), 3 * day},
		{`require "vacation-seconds"; vacation :seconds 60 "x";`, nil, day},
		{`require "vacation-seconds"; vacation :seconds 60 "x";`, o(time.Second, 0, 0), time.Minute},
		{`require "vacation-seconds"; vacation :seconds 0 "x";`, o(-1, 0, 0), 0},
		{`require "vacation"; vacation :days 99999999999999 "x";`, nil, 1 << 62},
	}
	for _, c := range cases {
		res := runVacation(t, c.script, vacMsg, vacEnv, c.opts, nil)
		v := vacationOf(res)
		if v == nil || v.Period != c.want {
			t.Errorf("%s: %+v, want %v", c.script, v, c.want)
		}
		if c.want == 0 && len(res.Track) != 0 {
			t.Errorf("%s: tracked a zero period", c.script)
		}
	}
	for _, bad := range []string{
		`require "vacation"; vacation :seconds 10 "x";`,                 // vacation-seconds not required
		`require "vacation-seconds"; vacation :days 1 :seconds 10 "x";`, // both
		`require "vacation"; vacation :from "not an address" "x";`,
		`require "vacation"; vacation :days "1" "x";`,
		`require "vacation"; vacation;`,
	} {
		if _, err := Compile("t", []byte(bad), nil); err == nil {
			t.Errorf("%s compiled", bad)
		}
	}
}

func TestVacationSubjectEncoding(t *testing.T) {
	msg := strings.Replace(vacMsg, "Lunch on Friday", "=?utf-8?q?D=C3=A9jeuner?= vendredi", 1)
	v := vacationOf(runVacation(t, `require "vacation"; vacation "Absent";`, msg, vacEnv, nil, nil))
	raw := string(v.Reply)
	if !strings.Contains(raw, "Subject: =?utf-8?") {
		t.Errorf("subject not encoded: %q", raw)
	}
	if got := replyHeader(t, v, "subject"); got != "Auto: Déjeuner vendredi" {
		t.Errorf("subject %q", got)
	}
	long := strings.Repeat("ж", 400)
	v = vacationOf(runVacation(t, `require "vacation"; vacation :subject "`+long+`" "x";`, vacMsg, vacEnv, nil, nil))
	got := replyHeader(t, v, "subject")
	if !strings.HasSuffix(got, "…") || len([]rune(got)) != maxSubjectRunes {
		t.Errorf("long subject: %d runes", len([]rune(got)))
	}
	for _, ln := range strings.Split(string(v.Reply), "\r\n") {
		if len(ln) > 998 {
			t.Errorf("line of %d bytes", len(ln))
		}
	}
	// A display name with non-ASCII characters is encoded.
	v = vacationOf(runVacation(t, `require "vacation"; vacation :from "Günther <g@example.com>" "x";`, vacMsg, vacEnv, nil, nil))
	dec, _ := new(mime.WordDecoder).DecodeHeader(replyHeader(t, v, "from"))
	if dec != `Günther <g@example.com>` && dec != `"Günther" <g@example.com>` {
		t.Errorf("from %q", dec)
	}
	// A control character cannot start a new header field.
	v = vacationOf(runVacation(t, `require "vacation"; vacation :subject "a\r\nBcc: x@example.net" "x";`, vacMsg, vacEnv, nil, nil))
	if strings.Contains(string(v.Reply), "\r\nBcc:") {
		t.Errorf("header injection: %q", v.Reply)
	}
}

func TestVacationConflicts(t *testing.T) {
	for _, c := range []struct {
		script string
		fails  bool
	}{
		{`require "vacation"; vacation "a"; vacation "b";`, true},
		{`require ["vacation","reject"]; vacation "a"; reject "no";`, true},
		{`require ["vacation","reject"]; reject "no"; vacation "a";`, true},
		{`require "vacation"; vacation "a"; discard;`, false},
		{`require ["vacation","fileinto"]; vacation "a"; fileinto "X";`, false},
	} {
		for _, msg := range []string{vacMsg, strings.Replace(vacMsg, "Subject:", "Precedence: bulk\nSubject:", 1)} {
			// Whether or not the reply is suppressed, the rules are the
			// same.
			res := runVacation(t, c.script, msg, vacEnv, nil, nil)
			if (res.Err != nil) != c.fails {
				t.Errorf("%s: err %v", c.script, res.Err)
			}
		}
	}
}

func TestVacationReplyTo(t *testing.T) {
	msg := `From: "Stephan Bosch" <stephan@example.org>
Sender: "Hendrik-Jan Tuinman" <h.j.tuinman@example.org>
To: robin@example.com
Subject: x

y
`
	for _, c := range []struct {
		from   string
		ignore bool
		want   string
	}{
		{"stephan@example.org", false, `"Stephan Bosch" <stephan@example.org>`},
		{"h.j.tuinman@example.org", false, `"Hendrik-Jan Tuinman" <h.j.tuinman@example.org>`},
		{"arie@example.org", false, `<arie@example.org>`},
		{"srs0=x@example.org", true, `"Hendrik-Jan Tuinman" <h.j.tuinman@example.org>`},
	} {
		opts := &Options{Vacation: VacationOptions{ToHeaderIgnoreEnvelope: c.ignore}}
		v := vacationOf(runVacation(t, `require "vacation"; vacation "x";`, msg, Envelope{From: c.from, To: "robin@example.com"}, opts, nil))
		if got := replyHeader(t, v, "to"); got != c.want || v.To != c.from {
			t.Errorf("%s: To %q (rcpt %q), want %q", c.from, got, v.To, c.want)
		}
	}
}
