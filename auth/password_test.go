package auth

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func mustVerify(t *testing.T, hash, password string, want bool) {
	t.Helper()
	ok, err := VerifyPassword(hash, password)
	if err != nil || ok != want {
		t.Errorf("VerifyPassword(%q, %q) = (%v, %v), want (%v, nil)", hash, password, ok, err, want)
	}
}

func TestHashPassword(t *testing.T) {
	re := regexp.MustCompile(`^\{ARGON2ID\}\$argon2id\$v=19\$m=65536,t=3,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	h1, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{h1, h2} {
		if !re.MatchString(h) {
			t.Errorf("HashPassword wrote %q, not Dovecot's argon2id form", h)
		}
		if NeedsRehash(h) {
			t.Errorf("NeedsRehash(%q) = true for our own fresh hash", h)
		}
	}
	if h1 == h2 {
		t.Error("two hashes of the same password are equal: salt not random")
	}
	mustVerify(t, h1, "correct horse", true)
	mustVerify(t, h1, "correct horsE", false)

	for _, bad := range []string{"", "a\x00b", strings.Repeat("x", MaxPasswordLen+1)} {
		if h, err := HashPassword(bad); err == nil {
			t.Errorf("HashPassword(%q) = %q, want an error", bad, h)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error %q contains the password", err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	ours, err := HashPassword("x")
	if err != nil {
		t.Fatal(err)
	}
	salt, tag := "c2FsdHNhbHRzYWx0c2FsdA", "dGFndGFndGFndGFndGFndGFndGFndGFndGFndGFndGE"
	for _, c := range []struct {
		hash string
		want bool
	}{
		{ours, false},
		{strings.Replace(ours, "{ARGON2ID}", "{argon2id}", 1), false},
		{strings.TrimPrefix(ours, "{ARGON2ID}"), true}, // bare: rewrite with prefix
		{"{ARGON2ID}$argon2id$v=19$m=65536,t=4,p=1$" + salt + "$" + tag, true},
		{"{ARGON2ID}$argon2id$v=19$m=32768,t=3,p=1$" + salt + "$" + tag, true},
		{"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + tag, true},
		{"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$" + salt + "$dGFn", true},
		{"{ARGON2I}$argon2i$v=19$m=65536,t=3,p=1$" + salt + "$" + tag, true},
		{"{ARGON2}$argon2id$v=19$m=65536,t=3,p=1$" + salt + "$" + tag, true},
		{"{SHA512-CRYPT}$6$abc$def", true},
		{"{PLAIN}x", true},
		{"", true},
		{"{ARGON2ID", true},
	} {
		if got := NeedsRehash(c.hash); got != c.want {
			t.Errorf("NeedsRehash(%q) = %v, want %v", c.hash, got, c.want)
		}
	}
}

func TestSchemeNamesAndEncodings(t *testing.T) {
	pw := "hunter2"
	s256 := sha256.Sum256([]byte(pw))
	s1 := sha1.Sum([]byte(pw))
	m5 := md5.Sum([]byte(pw))
	b64 := base64.StdEncoding.EncodeToString
	cram, err := cramMD5Context(pw)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{
		"{SHA256}" + b64(s256[:]),
		"{sha256}" + b64(s256[:]),                                              // names are case-insensitive
		"{SHA256}" + strings.TrimRight(b64(s256[:]), "="),                      // padding optional
		"{SHA256}" + hex.EncodeToString(s256[:]),                               // hex told apart by length
		"{SHA256}" + strings.ToUpper(hex.EncodeToString(s256[:])),              // either case
		"{SHA256.HEX}" + hex.EncodeToString(s256[:]),                           // explicit suffix
		"{SHA256.b64}" + b64(s256[:]),                                          // explicit suffix
		"{SHA256.BASE64}" + b64(s256[:]),                                       // explicit suffix
		"{SHA}" + hex.EncodeToString(s1[:]),                                    // 40 hex digits
		"{SHA1}" + b64(s1[:]),                                                  // alias
		"{PLAIN-MD5}" + b64(m5[:]),                                             // default hex, base64 guessed
		"{LDAP-MD5}" + hex.EncodeToString(m5[:]),                               // default base64, hex guessed
		"{MD5}" + hex.EncodeToString(m5[:]),                                    // {MD5}: a bare digest works too
		"{MD5}" + b64(m5[:]),                                                   //
		"{CRAM-MD5}" + b64(cram[:]),                                            // default hex, base64 guessed
		"{HMAC-MD5.b64}" + b64(cram[:]),                                        //
		"{PLAIN.b64}" + b64([]byte(pw)),                                        //
		"{PLAIN.hex}" + hex.EncodeToString([]byte(pw)),                         //
		"{CLEAR}" + pw,                                                         //
		"{SHA512-CRYPT}" + md5Crypt(pw, "$1$abcdefgh"),                         // crypt(3) picks the method from the hash
		"{CRYPT}" + md5Crypt(pw, "$1$abcdefgh"),                                //
		md5Crypt(pw, "$1$abcdefgh") + "$ignored",                               // bare $1$: Dovecot cuts after the hash
		"{MD5-CRYPT.hex}" + hex.EncodeToString([]byte(md5Crypt(pw, "$1$xyz"))), //
	} {
		mustVerify(t, h, pw, true)
		mustVerify(t, h, pw+"x", false)
	}
	// {MD5-CRYPT} is Dovecot's own code, not crypt(3): no trailing junk.
	if ok, err := VerifyPassword("{MD5-CRYPT}"+md5Crypt(pw, "$1$abcdefgh")+"$ignored", pw); ok || !errors.Is(err, ErrMalformedHash) {
		t.Errorf("{MD5-CRYPT} with trailing data: (%v, %v), want ErrMalformedHash", ok, err)
	}
}

func TestBcryptVariants(t *testing.T) {
	// crypt(3) "$2a$04$0123456789abcdefABCDEF" with Dovecot's sample
	// password; $2b$ and $2y$ compute the same function.
	const pw = "08/15!test~4711"
	const tail = "04$0123456789abcdefABCDE.N.drYX5yIAL1LkTaaZotW3yI0hQhZru"
	for _, minor := range []string{"a", "b", "y", "x"} {
		mustVerify(t, "$2"+minor+"$"+tail, pw, true)
		mustVerify(t, "{BLF-CRYPT}$2"+minor+"$"+tail, pw, true)
		mustVerify(t, "$2"+minor+"$"+tail, pw+"x", false)
	}
	if _, err := VerifyPassword("$2x$"+tail, "pässwörd"); !errors.Is(err, ErrUnsupportedHash) {
		t.Errorf("$2x$ with an 8-bit password: err = %v, want ErrUnsupportedHash", err)
	}
}

func TestPasswordTruncation(t *testing.T) {
	// DES crypt uses 8 bytes, bcrypt 72: documented crypt(3) behaviour
	// that migrated users rely on.
	des, err := desCrypt("password", "ab")
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, des, "password-and-more", true)
	mustVerify(t, des, "passwor", false)

	long := strings.Repeat("z", 80)
	var bc string
	for _, v := range loadVectors(t, "vectors.txt") {
		if v.password == long && strings.HasPrefix(v.hash, "$2b$") {
			bc = v.hash
		}
	}
	if bc == "" {
		t.Fatal("no 80-byte bcrypt vector")
	}
	mustVerify(t, bc, strings.Repeat("z", 72), true)
	mustVerify(t, bc, strings.Repeat("z", 71), false)
}

func TestNULPasswordNeverMatches(t *testing.T) {
	for _, h := range []string{"{PLAIN}a\x00b", "{PLAIN.HEX}610062", "{PLAIN}a"} {
		mustVerify(t, h, "a\x00b", false)
	}
}

func TestPasswordLengthLimit(t *testing.T) {
	max := strings.Repeat("p", MaxPasswordLen)
	mustVerify(t, "{PLAIN}"+max, max, true)
	mustVerify(t, "{PLAIN}"+max+"p", max+"p", false)
	h, err := HashPassword(max)
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, h, max, true)
}

func TestUnknownScheme(t *testing.T) {
	for _, c := range []struct{ hash, name string }{
		{"{FOO}bar", "FOO"},
		{"{}bar", `""`},
		{"{SHA256.ROT13}abc", "SHA256.ROT13"},
		{"{PLAIN-TRUNC}3-abc", "PLAIN-TRUNC"},
		{"{DIGEST-MD5}abcdef", "DIGEST-MD5"},
	} {
		_, err := VerifyPassword(c.hash, "x")
		if !errors.Is(err, ErrUnknownScheme) {
			t.Errorf("%q: err = %v, want ErrUnknownScheme", c.hash, err)
			continue
		}
		if !strings.Contains(err.Error(), c.name) {
			t.Errorf("%q: error %q does not name the scheme %s", c.hash, err, c.name)
		}
	}
}

func TestMalformedAndUnsupported(t *testing.T) {
	salt, tag := "c2FsdHNhbHRzYWx0c2FsdA", "dGFndGFndGFndGFndGFndGFndGFndGFndGFndGFndGE"
	hex40 := strings.Repeat("ab", 20)
	bcryptTail := "$0123456789abcdefABCDE.N.drYX5yIAL1LkTaaZotW3yI0hQhZru"
	malformed := []string{
		"",
		"{SHA256",
		"{SHA256}",
		"{SHA256}!!!!",
		"{SHA256}" + base64.StdEncoding.EncodeToString(make([]byte, 31)),
		"{SHA256.HEX}zz",
		"{SHA256.HEX}" + strings.Repeat("a", 63),
		"{SSHA}" + base64.StdEncoding.EncodeToString(make([]byte, 20)),
		"{SSHA512.HEX}00",
		"{SMD5}AAAA",
		"{PLAIN}",
		"{CRAM-MD5}abcd",
		"{MD5}nothex",
		"{MD5-CRYPT}abc$def",
		"{PBKDF2}salt$1000$" + hex40,
		"{PBKDF2}$1$salt$0$" + hex40,
		"{PBKDF2}$1$salt$-5$" + hex40,
		"{PBKDF2}$1$salt$1000$abcd",
		"{PBKDF2}$1$salt$1000$" + hex40 + "$x",
		"{SCRAM-SHA-256}4096,abc",
		"{SCRAM-SHA-1}0,c2FsdA==,AAAA,AAAA",
		"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2hvcnQ$" + tag,
		"{ARGON2ID}$argon2id$m=65536,t=3,p=1$" + salt + "$" + tag,
		"{ARGON2ID}$argon2i$v=19$m=65536,t=3,p=1$" + salt + "$" + tag,
		"{ARGON2I}$argon2id$v=19$m=65536,t=3,p=1$" + salt + "$" + tag,
		"{ARGON2ID}$argon2id$v=19$m=65536,t=0,p=1$" + salt + "$" + tag,
		"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=0$" + salt + "$" + tag,
		"{ARGON2ID}$argon2id$v=19$m=7,t=1,p=1$" + salt + "$" + tag,
		"{ARGON2ID}$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + tag,
		"{ARGON2ID}$argon2id$v=19$t=3,m=65536,p=1$" + salt + "$" + tag,
		"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$" + salt + "$!!",
		"{ARGON2}$argon2x$v=19$m=65536,t=3,p=1$" + salt + "$" + tag,
		"$5$rounds=abc$salt$hash",
		"$5$rounds=999$salt$hash",
		"$6$rounds=1000000000$salt$hash",
		"$6$rounds=$salt$hash",
		"$5$saltstringsaltstring$" + strings.Repeat("a", 43), // salt over 16: crypt(3) never writes it
		"$5$rounds=05000$salt$" + strings.Repeat("a", 43),    // leading zero: likewise
		"$5$salt$" + strings.Repeat("a", 42),
		"$6$salt$" + strings.Repeat("a", 87),
		"$6$salt",
		"$1$salt",
		"$1$salt$short",
		"{MD5}$1$saltsaltsalt$" + strings.Repeat("a", 22),
		"$2y$03" + bcryptTail,
		"$2y$5x" + bcryptTail,
		"$2y$05$short",
		"$2y$05" + bcryptTail[:len(bcryptTail)-1] + "!",
		"abc",
		"ab!defghijklm",
		"*",
		"!",
		"!$6$salt$hash",
		"x",
		"{CRYPT}",
		"{MD5-CRYPT}$6$salt$hash",
	}
	for _, h := range malformed {
		ok, err := VerifyPassword(h, "secret")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%q: got (%v, %v), want ErrMalformedHash", h, ok, err)
		}
	}
	unsupported := map[string]string{
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7": "yescrypt",
		"$gy$j9T$abc$def":                                                 "gost-yescrypt",
		"$7$CU..../....abc$def":                                           "scrypt",
		"$sha1$40000$abc$def":                                             "sha1crypt",
		"$3$$8846f7eaee8fb117ad06bdd830b7586c":                            "NT-hash",
		"_J9..CCCCXBrJUJV154M":                                            "BSDi",
		"$2q$05" + bcryptTail:                                             "$2q$",
		"$2y$31" + bcryptTail:                                             "cost 31",
		"$6$rounds=99999999$salt$" + strings.Repeat("a", 86):              "rounds",
		"{ARGON2ID}$argon2id$v=16$m=65536,t=3,p=1$" + salt + "$" + tag:    "version",
		"{ARGON2ID}$argon2id$v=19$m=4194304,t=3,p=1$" + salt + "$" + tag:  "above limits",
		"{ARGON2ID}$argon2id$v=19$m=65536,t=1000,p=1$" + salt + "$" + tag: "above limits",
		"{ARGON2}$argon2d$v=19$m=65536,t=3,p=1$" + salt + "$" + tag:       "argon2d",
		"{PBKDF2}$1$salt$99999999999$" + hex40:                            "rounds",
		"{SCRAM-SHA-256}999999999,c2FsdA==," + tag + "=," + tag + "=":     "iterations",
	}
	for h, want := range unsupported {
		ok, err := VerifyPassword(h, "secret")
		if ok || !errors.Is(err, ErrUnsupportedHash) {
			t.Errorf("%q: got (%v, %v), want ErrUnsupportedHash", h, ok, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %q does not mention %q", h, err, want)
		}
	}
}

// TestErrorsHideSecrets: no error text carries the password or the stored
// hash's data.
func TestErrorsHideSecrets(t *testing.T) {
	const pw = "Tr0ub4dor&3-secret"
	const data = "QmVjYXVzZVNlY3JldA"
	for _, h := range []string{
		"{SHA256}" + data, "{SSHA}" + data, "{FOO}" + data, "{PLAIN.HEX}" + data,
		"$9$" + data, data + "$", "{PBKDF2}$1$" + data + "$1$x",
		"{ARGON2ID}$argon2id$v=19$m=1,t=1,p=1$" + data + "$" + data,
	} {
		_, err := VerifyPassword(h, pw)
		if err == nil {
			t.Errorf("%q: no error", h)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, pw) || strings.Contains(msg, data) {
			t.Errorf("%q: error %q leaks the password or hash", h, msg)
		}
	}
}
