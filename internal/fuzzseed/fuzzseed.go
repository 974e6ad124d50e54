// Package fuzzseed reads the seed corpus of a protocol's fuzzers: the
// session scripts under a testdata directory. It is for tests only.
package fuzzseed

import (
	"os"
	"path/filepath"
	"testing"
)

// Load returns the contents of every *.txt file in dir; a directory
// without any ends the calling fuzz test, as fuzzing then tests nothing.
func Load(f *testing.F, dir string) [][]byte {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	if len(files) == 0 {
		f.Fatalf("no seeds in %s", dir)
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
