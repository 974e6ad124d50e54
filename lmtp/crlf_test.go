package lmtp

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// crlfReference is the plain definition: every LF not after a CR gets one.
func crlfReference(b []byte) []byte {
	var out []byte
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func checkCRLF(t *testing.T, in []byte) {
	t.Helper()
	want := crlfReference(in)
	for name, r := range map[string]io.Reader{
		"whole":    bytes.NewReader(in),
		"one byte": iotest.OneByteReader(bytes.NewReader(in)),
		"half":     iotest.HalfReader(bytes.NewReader(in)),
		"data+eof": iotest.DataErrReader(bytes.NewReader(in)),
	} {
		got, err := io.ReadAll(newCRLFReader(r))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %q, %v\nwant %q", name, got, err, want)
		}
	}
	// Small reads on the way out, to exercise the pending output.
	got, err := io.ReadAll(iotest.OneByteReader(newCRLFReader(bytes.NewReader(in))))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("one byte out: %q, %v\nwant %q", got, err, want)
	}
}

func TestCRLFReader(t *testing.T) {
	for _, s := range []string{"", "\n", "\r\n", "\r", "a\nb\r\nc\rd\n", "\n\n\r\n\r\r\n", "no line end", "x\r"} {
		checkCRLF(t, []byte(s))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 100 {
		b := make([]byte, rng.IntN(5000))
		for i := range b {
			b[i] = "ab\r\n"[rng.IntN(4)]
		}
		checkCRLF(t, b)
	}
}

func FuzzCRLF(f *testing.F) {
	f.Add([]byte("a\nb\r\nc\r"))
	f.Fuzz(func(t *testing.T, b []byte) { checkCRLF(t, b) })
}
