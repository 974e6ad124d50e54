package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Unsalted digests: {PLAIN-MD5}, {LDAP-MD5}, {SHA}, {SHA256}, {SHA512} and
// the salted ones {SMD5}, {SSHA}, {SSHA256}, {SSHA512}, whose stored value is
// digest(password || salt) || salt.

func hashMD5() hash.Hash    { return md5.New() }
func hashSHA1() hash.Hash   { return sha1.New() }
func hashSHA256() hash.Hash { return sha256.New() }
func hashSHA512() hash.Hash { return sha512.New() }

func digestVerifier(newHash func() hash.Hash) func([]byte, string) (bool, error) {
	return func(raw []byte, password string) (bool, error) {
		h := newHash()
		h.Write([]byte(password))
		return subtle.ConstantTimeCompare(h.Sum(nil), raw) == 1, nil
	}
}

func saltedVerifier(name string, newHash func() hash.Hash, size int) func([]byte, string) (bool, error) {
	return func(raw []byte, password string) (bool, error) {
		if len(raw) <= size {
			return false, fmt.Errorf("%w: %s value shorter than its %d-byte digest plus salt", ErrMalformedHash, name, size)
		}
		h := newHash()
		h.Write([]byte(password))
		h.Write(raw[size:])
		return subtle.ConstantTimeCompare(h.Sum(nil), raw[:size]) == 1, nil
	}
}

// verifyMD5Scheme implements Dovecot's {MD5}: an MD5-crypt string ($1$),
// otherwise a bare MD5 digest in hex or base64 (as {PLAIN-MD5}).
func verifyMD5Scheme(raw []byte, password string) (bool, error) {
	s := string(raw)
	if strings.HasPrefix(s, "$1$") {
		return verifyMD5CryptString(s, password)
	}
	digest, err := decodeStored(s, encHex, md5.Size, true)
	if err != nil || len(digest) != md5.Size {
		return false, fmt.Errorf("%w: neither MD5-crypt nor an MD5 digest", ErrMalformedHash)
	}
	return digestVerifier(hashMD5)(digest, password)
}

// verifyCRAMMD5 checks a password against Dovecot's {CRAM-MD5} value: the
// HMAC-MD5 "context" of RFC 2195 implementations, i.e. the MD5 chaining
// state after the outer (key^opad) block followed by the state after the
// inner (key^ipad) block, each as four little-endian 32-bit words.
func verifyCRAMMD5(raw []byte, password string) (bool, error) {
	ctx, err := cramMD5Context(password)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(ctx[:], raw) == 1, nil
}

func cramMD5Context(password string) ([32]byte, error) {
	var out [32]byte
	key := []byte(password)
	if len(key) > md5.BlockSize {
		sum := md5.Sum(key)
		key = sum[:]
	}
	var ipad, opad [md5.BlockSize]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	outer, err := md5StateAfterBlock(opad[:])
	if err != nil {
		return out, err
	}
	inner, err := md5StateAfterBlock(ipad[:])
	if err != nil {
		return out, err
	}
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint32(out[4*i:], outer[i])
		binary.LittleEndian.PutUint32(out[16+4*i:], inner[i])
	}
	return out, nil
}

// md5StateAfterBlock returns MD5's four chaining words after one 64-byte
// block. crypto/md5 exposes them through its versioned binary marshaling:
// "md5\x01", then the four words big-endian.
func md5StateAfterBlock(block []byte) ([4]uint32, error) {
	var s [4]uint32
	h := md5.New()
	h.Write(block)
	m, ok := h.(interface{ MarshalBinary() ([]byte, error) })
	if !ok {
		return s, fmt.Errorf("%w: CRAM-MD5 needs crypto/md5 state marshaling", ErrUnsupportedHash)
	}
	b, err := m.MarshalBinary()
	if err != nil || len(b) < 20 || string(b[:4]) != "md5\x01" {
		return s, fmt.Errorf("%w: unexpected crypto/md5 state format", ErrUnsupportedHash)
	}
	for i := range s {
		s[i] = binary.BigEndian.Uint32(b[4+4*i:])
	}
	return s, nil
}

// verifyPBKDF2 checks Dovecot's {PBKDF2}$1$salt$rounds$hexkey: PBKDF2 with
// HMAC-SHA1, the salt string used as is (not decoded), a 20-byte key in hex.
func verifyPBKDF2(raw []byte, password string) (bool, error) {
	s := string(raw)
	rest, ok := strings.CutPrefix(s, "$1$")
	if !ok {
		return false, fmt.Errorf("%w: PBKDF2 value must start with $1$", ErrMalformedHash)
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return false, fmt.Errorf("%w: PBKDF2 value must be $1$salt$rounds$hash", ErrMalformedHash)
	}
	salt, roundsText, keyHex := fields[0], fields[1], fields[2]
	rounds, err := parseCount(roundsText)
	if err != nil || rounds == 0 {
		return false, fmt.Errorf("%w: PBKDF2 rounds", ErrMalformedHash)
	}
	if rounds > limits.pbkdf2Rounds {
		return false, fmt.Errorf("%w: PBKDF2 rounds %d above limit %d", ErrUnsupportedHash, rounds, limits.pbkdf2Rounds)
	}
	want, err := hex.DecodeString(keyHex)
	if err != nil || len(want) != sha1.Size {
		return false, fmt.Errorf("%w: PBKDF2 key must be 40 hex digits", ErrMalformedHash)
	}
	got, err := pbkdf2.Key(sha1.New, password, []byte(salt), int(rounds), sha1.Size)
	if err != nil {
		return false, fmt.Errorf("%w: PBKDF2: %v", ErrUnsupportedHash, err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// scramVerifier checks Dovecot's {SCRAM-SHA-1} / {SCRAM-SHA-256} value,
// "iterations,salt,StoredKey,ServerKey" (base64 fields), against a
// cleartext password as RFC 5802 derives them.
func scramVerifier(name string, newHash func() hash.Hash) func([]byte, string) (bool, error) {
	return func(raw []byte, password string) (bool, error) {
		fields := strings.Split(string(raw), ",")
		if len(fields) != 4 {
			return false, fmt.Errorf("%w: %s value must be iterations,salt,storedkey,serverkey", ErrMalformedHash, name)
		}
		iter, err := parseCount(fields[0])
		if err != nil || iter == 0 {
			return false, fmt.Errorf("%w: %s iterations", ErrMalformedHash, name)
		}
		if iter > limits.pbkdf2Rounds {
			return false, fmt.Errorf("%w: %s iterations %d above limit %d", ErrUnsupportedHash, name, iter, limits.pbkdf2Rounds)
		}
		salt, err1 := decodeBase64(fields[1])
		storedKey, err2 := decodeBase64(fields[2])
		serverKey, err3 := decodeBase64(fields[3])
		size := newHash().Size()
		if err1 != nil || err2 != nil || err3 != nil || len(salt) == 0 ||
			len(storedKey) != size || len(serverKey) != size {
			return false, fmt.Errorf("%w: %s fields", ErrMalformedHash, name)
		}
		salted, err := pbkdf2.Key(newHash, password, salt, int(iter), size)
		if err != nil {
			return false, fmt.Errorf("%w: %s: %v", ErrUnsupportedHash, name, err)
		}
		mac := hmac.New(newHash, salted)
		mac.Write([]byte("Client Key"))
		h := newHash()
		h.Write(mac.Sum(nil))
		gotStored := h.Sum(nil)
		mac = hmac.New(newHash, salted)
		mac.Write([]byte("Server Key"))
		gotServer := mac.Sum(nil)
		okStored := subtle.ConstantTimeCompare(gotStored, storedKey)
		okServer := subtle.ConstantTimeCompare(gotServer, serverKey)
		return okStored&okServer == 1, nil
	}
}

// parseCount parses a plain decimal count: digits only, no sign, no spaces.
func parseCount(s string) (uint64, error) {
	if s == "" || len(s) > 19 {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, 64)
}
