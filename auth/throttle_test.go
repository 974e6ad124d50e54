package auth

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Unix(1000, 0)
	th := NewThrottle()
	th.now = func() time.Time { return now }
	if w, r := th.Check("1.2.3.4", "bob@x"); w != 0 || r {
		t.Fatalf("fresh: %v %v", w, r)
	}
	th.Failed("1.2.3.4", "bob@x")
	th.Failed("1.2.3.4", "bob@x")
	if w, _ := th.Check("1.2.3.4", "bob@x"); w != 500*time.Millisecond {
		t.Fatalf("after 2 failures wait %v", w)
	}
	// Another IP guessing the same account waits too; the same IP trying
	// another account waits too.
	if w, _ := th.Check("5.6.7.8", "bob@x"); w == 0 {
		t.Fatal("account not throttled from another IP")
	}
	if w, _ := th.Check("1.2.3.4", "carol@x"); w == 0 {
		t.Fatal("IP not throttled for another account")
	}
	for i := 0; i < 30; i++ {
		th.Failed("1.2.3.4", "bob@x")
	}
	if w, r := th.Check("1.2.3.4", "bob@x"); !r {
		t.Fatalf("not refused after many failures (wait %v)", w)
	}
	th.Succeeded("9.9.9.9", "bob@x")
	if _, r := th.Check("9.9.9.9", "bob@x"); r {
		t.Fatal("account still refused after success elsewhere")
	}
	if _, r := th.Check("1.2.3.4", "dave@x"); !r {
		t.Fatal("guessing IP unlocked by someone else's success")
	}
	now = now.Add(16 * time.Minute)
	if w, r := th.Check("1.2.3.4", "bob@x"); w != 0 || r {
		t.Fatalf("window passed: %v %v", w, r)
	}
	if w, _ := th.Check("1.2.3.4", "x"); w > th.Max {
		t.Fatalf("wait above max: %v", w)
	}
}
