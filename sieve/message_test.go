package sieve

import (
	"fmt"
	"strings"
	"testing"
)

// TestNewMessageHeaderSizes: the header is read in growing steps; it must
// come out the same whatever its size and wherever a step ends, also for
// a message that is all header, with or without a final line end.
func TestNewMessageHeaderSizes(t *testing.T) {
	for _, fields := range []int{0, 1, 100, 250, 251, 252, 1000, 5000} {
		for _, tail := range []string{"\r\n\r\nbody line\r\n", "\r\n", "", "\r\nnot a header line\r\n"} {
			var sb strings.Builder
			for i := 0; i < fields; i++ {
				fmt.Fprintf(&sb, "X-Field-%04d: value %d of a long header\r\n", i, i)
			}
			sb.WriteString("Subject: last")
			raw := sb.String() + tail
			m, err := ParseMessage([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(m.fields); got != fields+1 {
				t.Fatalf("%d fields, tail %q: got %d fields", fields, tail, got)
			}
			if v := m.fields[len(m.fields)-1]; v.name != "Subject" || strings.TrimSpace(v.raw) != "last" {
				t.Fatalf("%d fields, tail %q: last field %+v", fields, tail, v)
			}
			wantBody := len(raw)
			switch tail {
			case "\r\n\r\nbody line\r\n":
				wantBody = len(raw) - len("body line\r\n")
			case "\r\nnot a header line\r\n":
				wantBody = len(raw) - len("not a header line\r\n")
			}
			if m.bodyOff != int64(wantBody) {
				t.Fatalf("%d fields, tail %q: body at %d, want %d", fields, tail, m.bodyOff, wantBody)
			}
		}
	}
}
