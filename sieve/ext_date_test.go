package sieve

import (
	"testing"
	"time"
)

const dateMsg = `From: a@example.com
To: b@example.org
Date: Mon, 10 Mar 2025 23:45:10 -0500
Received: from x by y; Tue, 11 Mar 2025 05:00:01 +0100
Received: from w by x; Tue, 11 Mar 2025 04:59:59 +0000
X-Short: 1 Jan 00 00:00 GMT
X-Bad: Moo, 34 Juul 3060 25:30:42 +6600

Hi
`

func TestDate(t *testing.T) {
	in := xInput{msg: dateMsg, now: time.Date(2025, time.March, 15, 12, 0, 0, 0, time.FixedZone("", 3600))}
	xCases(t, in, []xCase{
		// Without a zone the local zone (that of Input.Now) is used.
		{`require ["date","variables","fileinto"];
		  if date :matches "date" "iso8601" "*" { fileinto "${1}"; }`, "2025-03-11T05:45:10+01:00"},
		{`require ["date","variables","fileinto"];
		  if date :originalzone :matches "date" "std11" "*" { fileinto "${1}"; }`, "Mon, 10 Mar 2025 23:45:10 -0500"},
		{`require ["date","variables","fileinto"];
		  if date :zone "+0000" :matches "date" "julian" "*" { fileinto "${1}"; }`, "60745"},
		{`require ["date","variables","fileinto"];
		  if date :zone "-0800" :matches "date" "weekday" "*" { fileinto "w${1}"; }`, "w1"},
		{`require ["date","variables","fileinto"];
		  if date :originalzone :matches "x-short" "iso8601" "*" { fileinto "${1}"; }`, "2000-01-01T00:00:00Z"},
		{`require ["date","fileinto"]; if date :matches "x-bad" "year" "*" { fileinto "bad"; }`, "+keep"},
		{`require ["date","fileinto"]; if date :is "date" "fortnight" "1" { fileinto "bad"; }`, "+keep"},
		// RFC 5260 section 4.1: a Received date follows the last ';';
		// section 6: :index and :last pick the field.
		{`require ["date","index","variables","fileinto"];
		  if date :index 1 :last :zone "+0000" :matches "received" "time" "*" { fileinto "${1}"; }`, "04:59:59"},
		{`require ["date","index","variables","fileinto"];
		  if date :index 1 :zone "+0000" :matches "received" "time" "*" { fileinto "${1}"; }`, "04:00:01"},
		// RFC 5260 section 5 example: the month and relational dates.
		{`require ["date","relational","fileinto"];
		  if allof(currentdate :value "ge" "date" "2025-03-01", currentdate :value "le" "date" "2025-03-31")
		  { fileinto "March"; }`, "March"},
		{`require ["date","fileinto"]; if currentdate :zone "+0530" :is "zone" "+0530" { fileinto "z"; }`, "z"},
		{`require ["date","relational","fileinto"]; if date :count "eq" "received" "date" "2" { fileinto "two"; }`, "two"},
	})
}

func TestParseDate(t *testing.T) {
	for s, want := range map[string]string{
		"Wed, 12 Nov 2014 18:18:31 +0100":          "2014-11-12T18:18:31+01:00",
		"12 Nov 2014 18:18 -0000 (comment)":        "2014-11-12T18:18:00Z",
		"Mon, 22 Jul 2009 23:30:14 +0300":          "2009-07-22T23:30:14+03:00", // wrong weekday is tolerated
		"Tue, 1 Jan 99 01:02:03 EST":               "1999-01-01T01:02:03-05:00",
		"Fri, 29 Feb 2024 10:00:00 +0000 (UTC)":    "2024-02-29T10:00:00Z",
		"Sat, 29 Feb 2025 10:00:00 +0000":          "",
		"not a date":                               "",
		"Moo, 34 Juul 3060 25:30:42 +6600":         "",
		"Wed, 12 Nov 2014 24:00:00 +0100":          "",
		"Wed, 12 Nov 2014 18:18:31 +0100 trailing": "2014-11-12T18:18:31+01:00",
	} {
		d, ok := parseDate(s)
		got := ""
		if ok {
			got = d.Format(time.RFC3339)
		}
		if got != want {
			t.Errorf("parseDate(%q) = %q, want %q", s, got, want)
		}
	}
}
