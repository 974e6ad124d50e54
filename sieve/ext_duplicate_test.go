package sieve

import (
	"strings"
	"testing"
	"time"
)

type fakeTracker map[string]bool

func (f fakeTracker) Seen(kind, key string) bool { return f[kind+"/"+key] }

func TestDuplicate(t *testing.T) {
	msg := "Message-ID: <m1@example.com>\nX-List: dev\nSubject: s\n\nbody\n"
	run := func(script string, tr Tracker) *Result {
		s, err := Compile("t", []byte(script), nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := ParseMessage([]byte(strings.ReplaceAll(msg, "\n", "\r\n")))
		return s.Run(t.Context(), &Input{Message: m, Tracker: tr})
	}
	// First sighting: not a duplicate, the id is to be tracked.
	res := run(`require "duplicate"; if duplicate { discard; }`, nil)
	if !res.ImplicitKeep || len(res.Track) != 1 || res.Track[0].Kind != "duplicate" || res.Track[0].Period != 14*24*time.Hour {
		t.Fatalf("first: %+v", res)
	}
	key := res.Track[0].Key
	// Seen before: a duplicate, and without :last nothing new is tracked.
	res = run(`require "duplicate"; if duplicate { discard; }`, fakeTracker{"duplicate/" + key: true})
	if res.ImplicitKeep || len(res.Track) != 0 {
		t.Errorf("second: %+v", res)
	}
	// :last restarts the period at every sighting.
	res = run(`require "duplicate"; if duplicate :last :seconds 60 { discard; }`, fakeTracker{"duplicate/" + key: true})
	if res.ImplicitKeep || len(res.Track) != 1 || res.Track[0].Period != time.Minute {
		t.Errorf(":last: %+v", res)
	}
	// Twice in one run: the second test is no duplicate either (RFC 7352
	// section 3), and the id is tracked once.
	res = run(`require "duplicate"; if duplicate { discard; } if duplicate { discard; }`, nil)
	if !res.ImplicitKeep || len(res.Track) != 1 {
		t.Errorf("twice: %+v", res)
	}
	// :handle keeps separate lists; :header and :uniqueid choose the id.
	a := run(`require "duplicate"; if duplicate :handle "a" :header "x-list" {}`, nil)
	b := run(`require "duplicate"; if duplicate :handle "b" :uniqueid "dev" {}`, nil)
	if len(a.Track) != 1 || len(b.Track) != 1 || a.Track[0].Key == b.Track[0].Key || a.Track[0].Key == key {
		t.Errorf("handles: %+v %+v", a.Track, b.Track)
	}
	// No such header: false, nothing tracked.
	if res = run(`require "duplicate"; if duplicate :header "x-none" { discard; }`, nil); len(res.Track) != 0 {
		t.Errorf("no header: %+v", res.Track)
	}
	// :seconds is capped; a failed run tracks nothing.
	if res = run(`require "duplicate"; if duplicate :seconds 99999999 {}`, nil); res.Track[0].Period != 7*24*time.Hour {
		t.Errorf("cap: %v", res.Track[0].Period)
	}
	if res = run(`require ["duplicate","ihave"]; if duplicate {} error "x";`, nil); len(res.Track) != 0 {
		t.Errorf("failed run tracked %+v", res.Track)
	}
	if _, err := Compile("t", []byte(`require "duplicate"; if duplicate :header "a" :uniqueid "b" {}`), nil); err == nil {
		t.Error(":header with :uniqueid compiled")
	}
}
