package sieve

import (
	"context"
	"strings"
	"testing"
)

const editMsg = `From: stephan@example.com
To: timo@example.com
Subject: Frop!
Received: by mx.example.com; Mon, 21 Nov 2011 05:25:26 +0200
X-Tag: first
X-Tag: second
X-Tag: third

Frop!

`

func runEdit(t *testing.T, script string, opts *Options) *Result {
	t.Helper()
	s, err := Compile("t", []byte(script), opts)
	if err != nil {
		t.Fatalf("compile %q: %v", script, err)
	}
	m, err := ParseMessage([]byte(strings.ReplaceAll(editMsg, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return s.Run(context.Background(), &Input{Message: m})
}

func TestEditHeader(t *testing.T) {
	cases := []struct{ script, want string }{
		// RFC 5293 section 4: added at the top, or at the end with :last.
		{`require ["editheader","index","fileinto"]; addheader "X-Tag" "zeroth"; addheader :last "X-Tag" "fourth";
		  if header :index 1 "x-tag" "zeroth" { fileinto "First"; }
		  if header :index 1 :last "x-tag" "fourth" { fileinto "Last"; }`, "First Last"},
		// Section 5: deleteheader, all, by :index, by value.
		{`require ["editheader","fileinto"]; deleteheader "x-tag"; if not exists "x-tag" { fileinto "Gone"; }`, "Gone"},
		{`require ["editheader","index","fileinto","variables"]; deleteheader :index 2 "x-tag";
		  if header :index 2 :matches "x-tag" "*" { fileinto "${1}"; }`, "third"},
		{`require ["editheader","index","fileinto","variables"]; deleteheader :index 1 :last "x-tag";
		  if header :index 1 :last :matches "x-tag" "*" { fileinto "${1}"; }`, "second"},
		{`require ["editheader","fileinto","variables"]; deleteheader :matches "x-tag" "*ir*";
		  if header :matches "x-tag" "*" { fileinto "${1}"; }`, "second"},
		// Deleting leaves the match variables alone.
		{`require ["editheader","fileinto","variables"]; if header :matches "subject" "*!" {}
		  deleteheader :matches "x-tag" "s*"; fileinto "${1}";`, "Frop"},
		// Received can never be deleted; Subject always.
		{`require ["editheader","fileinto"]; deleteheader "received"; deleteheader "subject";
		  if exists "received" { fileinto "Kept"; } if not exists "subject" { fileinto "NoSubject"; }`, "Kept NoSubject"},
		// Non-ASCII values are encoded and read back decoded.
		{`require ["editheader","fileinto"]; addheader "X-Greeting" "Grüße, Это тест!";
		  if header :is "x-greeting" "Grüße, Это тест!" { fileinto "RoundTrip"; }`, "RoundTrip"},
	}
	for _, c := range cases {
		res := runEdit(t, c.script, nil)
		if res.Err != nil {
			t.Errorf("%s: %v", c.script, res.Err)
			continue
		}
		var got []string
		for _, a := range res.Actions {
			if f, ok := a.(*FileInto); ok {
				got = append(got, f.Mailbox)
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s\n got %q, want %q", c.script, g, c.want)
		}
	}
}

func TestEditHeaderActionsKeepTheirMessage(t *testing.T) {
	res := runEdit(t, `require ["editheader","fileinto"];
		fileinto "Before"; addheader "X-Marker" "1"; redirect "a@example.org"; deleteheader "x-marker"; fileinto "After";`, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var before, after *FileInto
	var redir *Redirect
	for _, a := range res.Actions {
		switch a := a.(type) {
		case *FileInto:
			if a.Mailbox == "Before" {
				before = a
			} else {
				after = a
			}
		case *Redirect:
			redir = a
		}
	}
	if before.Message != nil {
		t.Errorf("action before any edit carries an edited message")
	}
	if redir.Message == nil || len(redir.Message.headerValues("x-marker")) != 1 {
		t.Errorf("redirect lost the added field")
	}
	if after.Message == nil || len(after.Message.headerValues("x-marker")) != 0 {
		t.Errorf("fileinto after the delete still has the field")
	}
}

func TestEditHeaderSizeAndFolding(t *testing.T) {
	// Pigeonhole's addheader.svtest: the size grows by exactly the new field.
	orig := "From: stephan@example.com\r\nTo: timo@example.com\r\nSubject: Frop!\r\n\r\nFrop!\r\n\r\n"
	s, err := Compile("t", []byte(`require "editheader"; addheader "X-Some-Header" "Header content";
		if size :over 107 { discard; } if size :under 107 { discard; }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ParseMessage([]byte(orig))
	if m.Size() != 76 {
		t.Fatalf("size %d", m.Size())
	}
	res := s.Run(context.Background(), &Input{Message: m})
	if res.Err != nil || !res.ImplicitKeep || res.ImplicitKeepMessage == nil {
		t.Fatalf("result %+v", res)
	}
	if got := res.ImplicitKeepMessage.Size(); got != 107 {
		t.Errorf("edited size %d, want 107", got)
	}

	long := strings.Repeat("word ", 40) + "end"
	raw := encodeFieldValue("X-Long", long)
	for i, l := range strings.Split(raw, "\r\n") {
		if i == 0 {
			l = "X-Long:" + l
		}
		if len(l) > 78 {
			t.Errorf("line %d is %d long: %q", i, len(l), l)
		}
	}
	if got := unfold(raw); strings.TrimSpace(got) != long {
		t.Errorf("unfolds to %q", got)
	}
	// Line breaks in the value become folds.
	raw = encodeFieldValue("X-A", "one\r\n two\r\nthree\r\n")
	if raw != " one\r\n two\r\n three" {
		t.Errorf("newlines: %q", raw)
	}
	raw = encodeFieldValue("X-A", strings.Repeat("é", 60))
	if got := decodeWords(strings.TrimSpace(unfold(raw))); got != strings.Repeat("é", 60) {
		t.Errorf("encoded round trip: %q", got)
	}
}

func TestEditHeaderErrors(t *testing.T) {
	bad := []string{
		`require "editheader"; addheader "X-field:" "Frop";`,
		`require "editheader"; addheader "X field" "Frop";`,
		`require "editheader"; deleteheader "X-field:";`,
		`require ["editheader","encoded-character"]; addheader "X-field" "Woah${hex:00}!";`,
		`require "editheader"; deleteheader :last "X-field";`,
		`require "editheader"; deleteheader :index "frop" "x-frop";`,
		`require "editheader"; deleteheader "x-frop" 1;`,
		`require "editheader"; addheader "x-frop";`,
		`require "editheader"; addheader "x-frop" ["frop"];`,
		`require "editheader"; addheader :tag "x-frop" "frop";`,
		`require "editheader"; addheader "x-frop" "` + strings.Repeat("A", 3000) + `";`,
	}
	for _, s := range bad {
		if _, err := Compile("t", []byte(s), nil); err == nil {
			t.Errorf("%.80s: compiled", s)
		}
	}
	for _, s := range []string{
		`require ["editheader","encoded-character"]; addheader "X-field" "Yeah${hex:07}!";`,
		`require "editheader"; deleteheader :matches "x-frop";`,
		`require "editheader"; addheader "X-field" "Frop
Frml";`,
	} {
		if _, err := Compile("t", []byte(s), nil); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	// A bad name from a variable fails at run time, and the implicit keep
	// then carries no edit.
	res := runEdit(t, `require ["editheader","variables"]; addheader "X-Ok" "1"; set "h" "X-field:"; addheader "${h}" "Frop";`, nil)
	if res.Err == nil || !res.ImplicitKeep || res.ImplicitKeepMessage != nil {
		t.Errorf("run-time error: %+v", res)
	}
}

func TestEditHeaderProtected(t *testing.T) {
	opts := &Options{EditHeader: EditHeaderOptions{ForbidAdd: []string{"x-frop", "subject"}, ForbidDelete: []string{"x-tag", "subject"}}}
	res := runEdit(t, `require ["editheader","fileinto"];
		addheader "x-frop" "1"; addheader "subject" "new"; deleteheader "x-tag";
		if not exists "x-frop" { fileinto "NotAdded"; }
		if exists "x-tag" { fileinto "NotDeleted"; }
		if header :is "subject" "new" { fileinto "SubjectEditable"; }`, opts)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var got []string
	for _, a := range res.Actions {
		got = append(got, a.(*FileInto).Mailbox)
	}
	if g := strings.Join(got, " "); g != "NotAdded NotDeleted SubjectEditable" {
		t.Errorf("got %q", g)
	}
}
