package auth

import "testing"

func TestPlaintextPassword(t *testing.T) {
	for _, c := range []struct {
		hash, want string
		ok         bool
	}{
		{"{PLAIN}secret", "secret", true},
		{"{plain}with space", "with space", true},
		{"{CLEAR}x", "x", true},
		{"{CLEARTEXT}y", "y", true},
		{"{PLAIN.B64}c2VjcmV0", "secret", true},
		{"{PLAIN.HEX}736563726574", "secret", true},
		{"{PLAIN}", "", false},
		{"{PLAIN.B64}!!!", "", false},
		{"{PLAIN.ROT13}x", "", false},
		{"{PLAIN.HEX}00", "", false}, // a NUL never matches a password
		{"{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "", false},
		{"$6$salt$hash", "", false},
		{"{PLAIN", "", false},
		{"", "", false},
	} {
		got, ok := PlaintextPassword(c.hash)
		if got != c.want || ok != c.ok {
			t.Errorf("PlaintextPassword(%q) = %q, %v; want %q, %v", c.hash, got, ok, c.want, c.ok)
		}
		// Whatever has a plaintext must verify against it.
		if ok {
			if match, err := VerifyPassword(c.hash, got); !match || err != nil {
				t.Errorf("VerifyPassword(%q, plaintext) = %v, %v", c.hash, match, err)
			}
		}
	}
}
