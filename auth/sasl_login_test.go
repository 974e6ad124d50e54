package auth

import "testing"

func TestLoginServer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		responses [][]byte // nil first: no initial response
		prompts   []string
	}{
		{"no initial response", [][]byte{nil, []byte("bob"), []byte("pw")}, []string{"Username:", "Password:"}},
		{"initial response", [][]byte{[]byte("bob"), []byte("pw")}, []string{"Password:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var user, pass string
			m := NewLoginServer(func(u, p string) { user, pass = u, p })
			for i, r := range tc.responses {
				challenge, done, err := m.Next(r)
				if err != nil {
					t.Fatal(err)
				}
				if last := i == len(tc.responses)-1; done != last {
					t.Fatalf("step %d: done=%v", i, done)
				}
				if i < len(tc.prompts) && string(challenge) != tc.prompts[i] {
					t.Fatalf("step %d: challenge %q, want %q", i, challenge, tc.prompts[i])
				}
			}
			if user != "bob" || pass != "pw" {
				t.Fatalf("got %q/%q", user, pass)
			}
			if _, _, err := m.Next([]byte("more")); err == nil {
				t.Fatal("a response after the last step was accepted")
			}
		})
	}
}
