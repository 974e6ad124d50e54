package storage

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"
	"testing/iotest"
)

// fill must keep every byte and hash exactly what it kept, whatever sizes
// the reader hands out and wherever the memory/file boundary falls.
func TestSpoolFill(t *testing.T) {
	sizes := []int{0, 1, spoolChunk - 1, spoolChunk, spoolChunk + 1, 3*spoolChunk + 17,
		spoolMemory - 1, spoolMemory, spoolMemory + 1, spoolMemory + spoolChunk + 5}
	readers := map[string]func([]byte) io.Reader{
		"whole":   func(b []byte) io.Reader { return bytes.NewReader(b) },
		"half":    func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"dataEOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	for _, size := range sizes {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + i>>11)
		}
		want := sha256.Sum256(data)
		for name, mk := range readers {
			sp := &spool{dir: t.TempDir()}
			h := sha256.New()
			n, err := sp.fill(mk(data), h)
			if err != nil || n != int64(size) || sp.size != int64(size) {
				t.Fatalf("%s %d: fill = %d, %v; size %d", name, size, n, err, sp.size)
			}
			if !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatalf("%s %d: hash differs", name, size)
			}
			if (sp.f != nil) != (size > spoolMemory) {
				t.Fatalf("%s %d: in a file: %v", name, size, sp.f != nil)
			}
			got := make([]byte, size)
			if k, err := sp.ReadAt(got, 0); k != size || (err != nil && err != io.EOF) || !bytes.Equal(got, data) {
				t.Fatalf("%s %d: read %d, %v, equal %v", name, size, k, err, bytes.Equal(got, data))
			}
			for _, r := range [][2]int64{{0, 0}, {0, 10}, {spoolChunk - 5, 5}, {spoolChunk - 5, 10}, {0, int64(size)}, {int64(size) - 3, 3}} {
				off, n := r[0], r[1]
				v, ok := sp.view(off, n)
				fits := off >= 0 && off+n <= int64(size) && sp.f == nil && (n == 0 || off%spoolChunk+n <= spoolChunk)
				if ok != fits {
					t.Fatalf("%s %d: view(%d, %d) ok = %v, want %v", name, size, off, n, ok, fits)
				}
				if ok && (v == nil || !bytes.Equal(v, data[off:off+n])) {
					t.Fatalf("%s %d: view(%d, %d) differs", name, size, off, n)
				}
			}
			sp.close()
		}
	}
}

// A message over the limit is refused however it arrives.
func TestSpoolFillLimit(t *testing.T) {
	s := &Store{opts: Options{DataDir: t.TempDir()}}
	data := bytes.Repeat([]byte("x"), 3000)
	if _, err := s.prepare(iotest.HalfReader(bytes.NewReader(data)), 2999); err == nil {
		t.Fatal("3000 bytes accepted with a limit of 2999")
	}
	in, err := s.prepare(iotest.HalfReader(bytes.NewReader(data)), 3000)
	if err != nil || in.Size() != 3000 {
		t.Fatalf("3000 bytes with a limit of 3000: %v", err)
	}
	in.Close()
}
