package auth

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vector is one line of testdata/auth/vectors.txt (see gen-vectors.sh).
type vector struct {
	label, password, hash string
	line                  int
}

const testdataDir = "../testdata/auth"

func loadVectors(t testing.TB, name string) []vector {
	t.Helper()
	f, err := os.Open(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatalf("open vectors: %v", err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("%s:%d: want 3 TAB-separated fields, got %d", name, n, len(fields))
		}
		out = append(out, vector{label: fields[0], password: fields[1], hash: fields[2], line: n})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no vectors", name)
	}
	return out
}

// slowVector reports whether a vector takes a tenth of a second or more.
func slowVector(v vector) bool {
	return strings.Contains(v.hash, "$argon2")
}

// truncates reports whether the hash ignores password bytes beyond some
// length (DES crypt: 8, bcrypt: 72) and that length is reached.
func truncates(v vector) bool {
	_, data, _, _ := splitScheme(v.hash)
	switch {
	case strings.HasPrefix(data, "$2"):
		return len(v.password) >= 72
	case len(data) == 13 && !strings.HasPrefix(data, "$"):
		return len(v.password) >= 8
	}
	return false
}

func TestVectors(t *testing.T) {
	for _, file := range []string{"vectors.txt", "dovecot-verified.txt"} {
		for _, v := range loadVectors(t, file) {
			t.Run(file+":"+v.label, func(t *testing.T) {
				t.Parallel()
				ok, err := VerifyPassword(v.hash, v.password)
				if err != nil || !ok {
					t.Fatalf("line %d: right password: got (%v, %v), want (true, nil)", v.line, ok, err)
				}
				wrong := []string{"wrong-" + v.password}
				if !slowVector(v) {
					wrong = append(wrong, "", strings.ToUpper(v.password[:1])+v.password[1:])
					if !truncates(v) {
						wrong = append(wrong, v.password+"!", v.password[:len(v.password)-1])
					}
				}
				for _, w := range wrong {
					if w == v.password {
						continue
					}
					ok, err := VerifyPassword(v.hash, w)
					if err != nil || ok {
						t.Errorf("line %d: wrong password %q: got (%v, %v), want (false, nil)", v.line, w, ok, err)
					}
				}
			})
		}
	}
}

// TestVectorsCoverSchemes checks that the vector file has Dovecot-made
// hashes for every scheme the package promises.
func TestVectorsCoverSchemes(t *testing.T) {
	have := map[string]bool{}
	for _, v := range loadVectors(t, "vectors.txt") {
		have[v.label] = true
	}
	for _, s := range []string{
		"PLAIN", "CLEARTEXT", "PLAIN.B64", "PLAIN.HEX",
		"CRYPT", "DES-CRYPT", "MD5-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT",
		"ARGON2I", "ARGON2ID",
		"SSHA", "SSHA256", "SSHA512", "SHA", "SHA256", "SHA512", "SHA256.HEX",
		"SMD5", "MD5", "PLAIN-MD5", "LDAP-MD5", "PBKDF2", "CRAM-MD5", "HMAC-MD5",
		"SCRAM-SHA-1", "SCRAM-SHA-256",
	} {
		if !have["doveadm:"+s] {
			t.Errorf("no doveadm vector for %s", s)
		}
	}
	for _, s := range []string{"SHA256-CRYPT", "SHA512-CRYPT", "MD5-CRYPT", "BLF-CRYPT", "DES-CRYPT", "ARGON2ID"} {
		if !have["doveadm-raw:"+s] {
			t.Errorf("no prefix-less vector for %s", s)
		}
	}
	for _, s := range []string{"spec:SHA256-CRYPT", "spec:SHA512-CRYPT", "known:MD5-CRYPT", "known:DES-CRYPT"} {
		if !have[s] {
			t.Errorf("no %s vector", s)
		}
	}
}
