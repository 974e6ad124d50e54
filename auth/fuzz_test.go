package auth

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzVerifyPassword feeds arbitrary stored hashes and passwords to
// VerifyPassword: it must never panic, and every error must be one of the
// package's three kinds. Seeds: testdata/auth/vectors.txt and
// testdata/auth/fuzz-seeds.txt.
//
//	go test -run '^$' -fuzz FuzzVerifyPassword -fuzztime 60s ./auth/
func FuzzVerifyPassword(f *testing.F) {
	for _, v := range loadVectors(f, "vectors.txt") {
		f.Add(v.hash, v.password)
	}
	seeds, err := os.Open(filepath.Join(testdataDir, "fuzz-seeds.txt"))
	if err != nil {
		f.Fatal(err)
	}
	defer seeds.Close()
	sc := bufio.NewScanner(seeds)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			f.Add(line, "secret")
		}
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}

	// Keep each input cheap: the limits themselves are what is fuzzed,
	// not how long a legitimate expensive hash takes.
	saved := limits
	limits = costLimits{bcryptCost: 5, shaCryptRounds: 2000, pbkdf2Rounds: 2000, argon2MemoryKiB: 256, argon2Passes: 2}
	f.Cleanup(func() { limits = saved })

	f.Fuzz(func(t *testing.T, hash, password string) {
		ok, err := VerifyPassword(hash, password)
		if err != nil {
			if ok {
				t.Fatalf("VerifyPassword returned true with error %v", err)
			}
			if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnknownScheme) && !errors.Is(err, ErrUnsupportedHash) {
				t.Fatalf("error of no known kind: %v", err)
			}
		}
		_ = NeedsRehash(hash)
	})
}
