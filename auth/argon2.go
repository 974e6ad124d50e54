package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Parameters of the hashes HashPassword writes; see HashPassword.
const (
	argon2Memory  = 64 * 1024 // KiB
	argon2Time    = 3
	argon2Threads = 1
	argon2SaltLen = 16
	argon2KeyLen  = 32
)

const (
	argon2i  = "argon2i"
	argon2id = "argon2id"
)

var argon2Prefix = fmt.Sprintf("{ARGON2ID}$argon2id$v=%d$m=%d,t=%d,p=%d$",
	argon2.Version, argon2Memory, argon2Time, argon2Threads)

// HashPassword hashes a new password with argon2id and returns it in
// Dovecot's notation:
//
//	{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$<salt, 22 chars>$<tag, 43 chars>
//
// The parameters are the ones Dovecot 2.3's `doveadm pw -s ARGON2ID` writes
// (libsodium's crypto_pwhash_str): 64 MiB of memory, 3 passes, 1 lane, a
// 16-byte random salt and a 32-byte tag. That is RFC 9106's second
// recommended option but for the lane count (4 there): one lane keeps the
// hash verifiable by libsodium, and so by Dovecot (checked with
// `doveadm pw -t`, see testdata/auth/dovecot-verified.txt). NeedsRehash
// reports hashes with any other parameters.
//
// The empty password, passwords containing NUL and passwords longer than
// MaxPasswordLen are refused: an account should not have the first, Dovecot
// could never verify the second, and VerifyPassword would not check the last.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", errors.New("hash password: empty password")
	}
	if strings.IndexByte(password, 0) >= 0 {
		return "", errors.New("hash password: password contains a NUL byte")
	}
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("hash password: password longer than %d bytes", MaxPasswordLen)
	}
	salt := make([]byte, argon2SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argon2Time, argon2Memory, argon2Threads, argon2KeyLen)
	return argon2Prefix + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(key), nil
}

// NeedsRehash reports whether a stored hash should be replaced by
// HashPassword's output at the next successful login: true for every scheme
// other than argon2id, and for argon2id with other parameters than ours.
func NeedsRehash(hash string) bool {
	name, data, prefixed, ok := splitScheme(hash)
	if !ok || !prefixed || strings.ToUpper(name) != "ARGON2ID" {
		return true
	}
	p, err := parseArgon2(data)
	if err != nil {
		return true
	}
	return p.variant != argon2id || p.memory != argon2Memory || p.time != argon2Time ||
		p.threads != argon2Threads || len(p.salt) < argon2SaltLen || len(p.key) != argon2KeyLen
}

type argon2Params struct {
	variant      string
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseArgon2 reads the PHC string form libsodium and the reference
// implementation write: $argon2id$v=19$m=M,t=T,p=P$salt$hash, with salt and
// hash in unpadded standard base64.
func parseArgon2(s string) (argon2Params, error) {
	var p argon2Params
	fields := strings.Split(s, "$")
	if len(fields) != 6 || fields[0] != "" {
		return p, fmt.Errorf("%w: argon2 string must be $variant$v=19$m=,t=,p=$salt$hash", ErrMalformedHash)
	}
	switch fields[1] {
	case argon2i, argon2id:
		p.variant = fields[1]
	case "argon2d":
		return p, fmt.Errorf("%w: argon2d", ErrUnsupportedHash)
	default:
		return p, fmt.Errorf("%w: argon2 variant", ErrMalformedHash)
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, fmt.Errorf("%w: argon2 version other than v=19", ErrUnsupportedHash)
	}
	params := strings.Split(fields[3], ",")
	if len(params) != 3 {
		return p, fmt.Errorf("%w: argon2 parameters must be m=,t=,p=", ErrMalformedHash)
	}
	var vals [3]uint64
	for i, key := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(params[i], key)
		v, err := parseCount(num)
		if !ok || err != nil {
			return p, fmt.Errorf("%w: argon2 parameter %s", ErrMalformedHash, key[:1])
		}
		vals[i] = v
	}
	m, t, par := vals[0], vals[1], vals[2]
	if t < 1 || par < 1 || par > 255 || m < 8*par {
		return p, fmt.Errorf("%w: argon2 parameters out of range", ErrMalformedHash)
	}
	if m > limits.argon2MemoryKiB || t > limits.argon2Passes {
		return p, fmt.Errorf("%w: argon2 m=%d,t=%d above limits m=%d,t=%d",
			ErrUnsupportedHash, m, t, limits.argon2MemoryKiB, limits.argon2Passes)
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(par)
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(fields[4]); err != nil || len(p.salt) < 8 || len(p.salt) > 1024 {
		return p, fmt.Errorf("%w: argon2 salt", ErrMalformedHash)
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(fields[5]); err != nil || len(p.key) < 4 || len(p.key) > 1024 {
		return p, fmt.Errorf("%w: argon2 hash", ErrMalformedHash)
	}
	return p, nil
}

// argon2Verifier is {ARGON2I} / {ARGON2ID} (the variant must match) or,
// with want "", {ARGON2} (either variant).
func argon2Verifier(want string) func([]byte, string) (bool, error) {
	return func(raw []byte, password string) (bool, error) {
		return verifyArgon2(string(raw), password, want)
	}
}

func verifyArgon2(stored, password, want string) (bool, error) {
	p, err := parseArgon2(stored)
	if err != nil {
		return false, err
	}
	if want != "" && p.variant != want {
		return false, fmt.Errorf("%w: %s hash under the %s scheme", ErrMalformedHash, p.variant, strings.ToUpper(want))
	}
	var got []byte
	if p.variant == argon2id {
		got = argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	} else {
		got = argon2.Key([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	}
	return subtle.ConstantTimeCompare(got, p.key) == 1, nil
}
