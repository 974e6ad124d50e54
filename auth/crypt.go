package auth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// The crypt(3) family: strings that carry their method as "$id$", or a
// traditional 13-character DES string. Dovecot verifies {CRYPT},
// {DES-CRYPT}, {BLF-CRYPT}, {SHA256-CRYPT}, {SHA512-CRYPT} and prefix-less
// hashes by calling crypt(3) with the stored string as the setting and
// comparing the result with it; we do the same with our own implementations.

// cryptAlphabet is the 64-character alphabet of crypt(3) strings.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// cryptIndex maps a crypt alphabet character to its value, or -1.
var cryptIndex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(cryptAlphabet); i++ {
		t[cryptAlphabet[i]] = int8(i)
	}
	return t
}()

func verifyCryptRaw(raw []byte, password string) (bool, error) {
	return verifyCryptString(string(raw), password)
}

// verifyCryptString dispatches a crypt(3) string by its method id.
func verifyCryptString(stored, password string) (bool, error) {
	switch {
	case strings.HasPrefix(stored, "$1$"):
		return verifyMD5CryptString(stored, password)
	case strings.HasPrefix(stored, "$5$"):
		return verifySHACrypt(stored, password, sha256Crypt)
	case strings.HasPrefix(stored, "$6$"):
		return verifySHACrypt(stored, password, sha512Crypt)
	case strings.HasPrefix(stored, "$2"):
		return verifyBcrypt(stored, password)
	case strings.HasPrefix(stored, "$argon2"):
		return verifyArgon2(stored, password, "")
	case strings.HasPrefix(stored, "$"):
		return false, fmt.Errorf("%w: crypt method %s", ErrUnsupportedHash, cryptMethodName(stored))
	case strings.HasPrefix(stored, "_"):
		return false, fmt.Errorf("%w: crypt method BSDi extended DES (_)", ErrUnsupportedHash)
	default:
		return verifyDESCrypt(stored, password)
	}
}

// cryptMethodName names a "$id$..." method for an error message.
func cryptMethodName(stored string) string {
	id := stored[1:]
	if i := strings.IndexByte(id, '$'); i >= 0 {
		id = id[:i]
	}
	known := map[string]string{
		"y": "yescrypt", "gy": "gost-yescrypt", "7": "scrypt", "sha1": "sha1crypt",
		"md5": "SunMD5", "3": "NT-hash", "sm3": "sm3crypt", "argon2d": "argon2d",
	}
	label := "$" + schemeLabel(id) + "$"
	if n, ok := known[id]; ok {
		label += " (" + n + ")"
	}
	return label
}

// verifyMD5CryptRaw is Dovecot's {MD5-CRYPT}: only $1$ strings.
func verifyMD5CryptRaw(raw []byte, password string) (bool, error) {
	s := string(raw)
	if !strings.HasPrefix(s, "$1$") {
		return false, fmt.Errorf("%w: MD5-crypt value must start with $1$", ErrMalformedHash)
	}
	return verifyMD5CryptString(s, password)
}

func verifyMD5CryptString(stored, password string) (bool, error) {
	if len(stored) != md5CryptLen(stored) {
		return false, fmt.Errorf("%w: MD5-crypt string length", ErrMalformedHash)
	}
	computed := md5Crypt(password, stored)
	return subtle.ConstantTimeCompare([]byte(computed), []byte(stored)) == 1, nil
}

func verifySHACrypt(stored, password string, v shaCryptVariant) (bool, error) {
	setting, err := parseSHACryptSetting(stored, v)
	if err != nil {
		return false, err
	}
	if setting.rounds < shaCryptMinRounds || setting.rounds > shaCryptMaxRounds {
		// crypt(3) would write the clamped count, so the stored string
		// can never be what it produces.
		return false, fmt.Errorf("%w: %s rounds out of range", ErrMalformedHash, v.name)
	}
	if len(stored) != setting.encodedLen(v) {
		// Not a string crypt(3) writes (salt over 16 characters, leading
		// zeros in rounds=, missing or extra characters): it could never
		// match, and the operator should hear about it.
		return false, fmt.Errorf("%w: %s string length", ErrMalformedHash, v.name)
	}
	if setting.rounds > limits.shaCryptRounds {
		return false, fmt.Errorf("%w: %s rounds %d above limit %d", ErrUnsupportedHash, v.name, setting.rounds, limits.shaCryptRounds)
	}
	computed := shaCryptWith(password, setting, v)
	return subtle.ConstantTimeCompare([]byte(computed), []byte(stored)) == 1, nil
}

// verifyBcrypt checks $2a$, $2b$, $2y$ (and, for 7-bit passwords, $2x$)
// bcrypt strings. Only the first 72 bytes of a password count, as in every
// bcrypt implementation.
func verifyBcrypt(stored, password string) (bool, error) {
	// $2?$NN$ + 22 salt characters + 31 hash characters.
	if len(stored) != 60 || stored[3] != '$' || stored[6] != '$' {
		return false, fmt.Errorf("%w: bcrypt string", ErrMalformedHash)
	}
	switch stored[2] {
	case 'a', 'b', 'y':
	case 'x':
		// $2x$ marks hashes from the crypt_blowfish release with the
		// sign-extension bug; it equals $2a$ for 7-bit passwords only.
		for i := 0; i < len(password); i++ {
			if password[i] >= 0x80 {
				return false, fmt.Errorf("%w: bcrypt $2x$ with an 8-bit password", ErrUnsupportedHash)
			}
		}
	default:
		return false, fmt.Errorf("%w: crypt method %s", ErrUnsupportedHash, cryptMethodName(stored))
	}
	if stored[4] < '0' || stored[4] > '9' || stored[5] < '0' || stored[5] > '9' {
		return false, fmt.Errorf("%w: bcrypt cost", ErrMalformedHash)
	}
	cost := int(stored[4]-'0')*10 + int(stored[5]-'0')
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return false, fmt.Errorf("%w: bcrypt cost %d", ErrMalformedHash, cost)
	}
	if cost > limits.bcryptCost {
		return false, fmt.Errorf("%w: bcrypt cost %d above limit %d", ErrUnsupportedHash, cost, limits.bcryptCost)
	}
	for i := 7; i < len(stored); i++ {
		if cryptIndex[stored[i]] < 0 {
			return false, fmt.Errorf("%w: bcrypt string", ErrMalformedHash)
		}
	}
	pw := []byte(password)
	if len(pw) > 72 {
		pw = pw[:72]
	}
	// x/crypto/bcrypt computes the same (correct) function for every minor
	// version letter, which is what crypt_blowfish does for a, b and y.
	err := bcrypt.CompareHashAndPassword([]byte(stored), pw)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
	}
}
