package auth

import (
	"crypto/subtle"
	"fmt"
)

// Traditional DES-based crypt(3), written from the algorithm's description
// (Morris and Thompson, "Password Security: A Case History", 1979; FIPS
// 46-3 for DES itself). crypto/des cannot be used: crypt(3) perturbs DES's
// E expansion with the salt, which crypto/des has no way to express.
//
//   - key: the low seven bits of each of the first eight password bytes, each
//     shifted left by one (the parity position stays zero);
//   - salt: two characters of the crypt alphabet give twelve bits; salt bit
//     i set swaps outputs i and i+24 of the E expansion (i = 0..11, counted
//     from the first output bit);
//   - a zero block is encrypted 25 times with that key and modified E;
//   - result: the salt, then the 64 result bits (padded with two zero bits)
//     as eleven crypt alphabet characters, most significant bits first.

// DES tables from FIPS 46-3. Positions count from 1 at the most
// significant bit, as the standard writes them.
var (
	desIP = [64]byte{
		58, 50, 42, 34, 26, 18, 10, 2,
		60, 52, 44, 36, 28, 20, 12, 4,
		62, 54, 46, 38, 30, 22, 14, 6,
		64, 56, 48, 40, 32, 24, 16, 8,
		57, 49, 41, 33, 25, 17, 9, 1,
		59, 51, 43, 35, 27, 19, 11, 3,
		61, 53, 45, 37, 29, 21, 13, 5,
		63, 55, 47, 39, 31, 23, 15, 7,
	}
	desE = [48]byte{
		32, 1, 2, 3, 4, 5,
		4, 5, 6, 7, 8, 9,
		8, 9, 10, 11, 12, 13,
		12, 13, 14, 15, 16, 17,
		16, 17, 18, 19, 20, 21,
		20, 21, 22, 23, 24, 25,
		24, 25, 26, 27, 28, 29,
		28, 29, 30, 31, 32, 1,
	}
	desP = [32]byte{
		16, 7, 20, 21,
		29, 12, 28, 17,
		1, 15, 23, 26,
		5, 18, 31, 10,
		2, 8, 24, 14,
		32, 27, 3, 9,
		19, 13, 30, 6,
		22, 11, 4, 25,
	}
	desPC1 = [56]byte{
		57, 49, 41, 33, 25, 17, 9,
		1, 58, 50, 42, 34, 26, 18,
		10, 2, 59, 51, 43, 35, 27,
		19, 11, 3, 60, 52, 44, 36,
		63, 55, 47, 39, 31, 23, 15,
		7, 62, 54, 46, 38, 30, 22,
		14, 6, 61, 53, 45, 37, 29,
		21, 13, 5, 28, 20, 12, 4,
	}
	desPC2 = [48]byte{
		14, 17, 11, 24, 1, 5,
		3, 28, 15, 6, 21, 10,
		23, 19, 12, 4, 26, 8,
		16, 7, 27, 20, 13, 2,
		41, 52, 31, 37, 47, 55,
		30, 40, 51, 45, 33, 48,
		44, 49, 39, 56, 34, 53,
		46, 42, 50, 36, 29, 32,
	}
	desShifts = [16]byte{1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1}
	// desS[box][row*16+column]
	desS = [8][64]byte{
		{
			14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
			0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
			4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
			15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
		},
		{
			15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
			3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
			0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
			13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
		},
		{
			10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
			13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
			13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
			1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
		},
		{
			7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
			13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
			10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
			3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
		},
		{
			2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
			14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
			4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
			11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
		},
		{
			12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
			10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
			9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
			4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
		},
		{
			4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
			13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
			1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
			6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
		},
		{
			13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
			1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
			7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
			2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
		},
	}
	// desFP is the inverse of desIP.
	desFP = func() (fp [64]byte) {
		for i, p := range desIP {
			fp[p-1] = byte(i + 1)
		}
		return fp
	}()
)

// permute builds a value from the bits of in (inBits wide) listed in table,
// positions counted from 1 at the most significant bit.
func permute(in uint64, inBits uint, table []byte) uint64 {
	var out uint64
	for _, p := range table {
		out = out<<1 | (in>>(inBits-uint(p)))&1
	}
	return out
}

// desSubkeys computes the sixteen 48-bit round keys of a 64-bit DES key.
func desSubkeys(key uint64) [16]uint64 {
	var k [16]uint64
	cd := permute(key, 64, desPC1[:])
	c, d := uint32(cd>>28)&0x0fffffff, uint32(cd)&0x0fffffff
	for i := range k {
		for range desShifts[i] {
			c = (c<<1 | c>>27) & 0x0fffffff
			d = (d<<1 | d>>27) & 0x0fffffff
		}
		k[i] = permute(uint64(c)<<28|uint64(d), 56, desPC2[:])
	}
	return k
}

// desF is the DES round function. saltMask has bit 23-i set for each set
// salt bit i: those E outputs (i, counted from the most significant of the
// 48) are swapped with outputs i+24.
func desF(r uint32, subkey uint64, saltMask uint64) uint32 {
	e := permute(uint64(r), 32, desE[:])
	t := ((e >> 24) ^ e) & saltMask
	e ^= t | t<<24
	x := e ^ subkey
	var out uint64
	for box := 0; box < 8; box++ {
		six := (x >> (42 - 6*uint(box))) & 0x3f
		row := (six>>4)&2 | six&1
		col := (six >> 1) & 0xf
		out = out<<4 | uint64(desS[box][row*16+col])
	}
	return uint32(permute(out, 32, desP[:]))
}

// desEncrypt encrypts one block with the given round keys and salt mask
// (zero mask: standard DES).
func desEncrypt(block uint64, k *[16]uint64, saltMask uint64) uint64 {
	b := permute(block, 64, desIP[:])
	l, r := uint32(b>>32), uint32(b)
	for i := range k {
		l, r = r, l^desF(r, k[i], saltMask)
	}
	return permute(uint64(r)<<32|uint64(l), 64, desFP[:])
}

// desCrypt computes the 13-character traditional crypt(3) string for
// password with the two-character salt.
func desCrypt(password, salt string) (string, error) {
	if len(salt) < 2 || cryptIndex[salt[0]] < 0 || cryptIndex[salt[1]] < 0 {
		return "", fmt.Errorf("%w: DES crypt salt", ErrMalformedHash)
	}
	var key uint64
	for i := 0; i < 8 && i < len(password) && password[i] != 0; i++ {
		key |= uint64(password[i]<<1) << (56 - 8*uint(i))
	}
	saltBits := uint64(cryptIndex[salt[0]]) | uint64(cryptIndex[salt[1]])<<6
	var saltMask uint64
	for i := uint(0); i < 12; i++ {
		if saltBits>>i&1 != 0 {
			saltMask |= 1 << (23 - i)
		}
	}
	k := desSubkeys(key)
	var block uint64
	for range 25 {
		block = desEncrypt(block, &k, saltMask)
	}
	out := make([]byte, 0, 13)
	out = append(out, salt[0], salt[1])
	for i := 0; i < 11; i++ {
		shift := 58 - 6*i
		var v uint64
		if shift >= 0 {
			v = block >> uint(shift)
		} else {
			v = block << uint(-shift)
		}
		out = append(out, cryptAlphabet[v&0x3f])
	}
	return string(out), nil
}

func verifyDESCrypt(stored, password string) (bool, error) {
	if len(stored) != 13 {
		return false, fmt.Errorf("%w: not a crypt(3) string (DES crypt has 13 characters)", ErrMalformedHash)
	}
	for i := 0; i < len(stored); i++ {
		if cryptIndex[stored[i]] < 0 {
			return false, fmt.Errorf("%w: not a crypt(3) string", ErrMalformedHash)
		}
	}
	computed, err := desCrypt(password, stored[:2])
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(computed), []byte(stored)) == 1, nil
}
