package auth

import (
	"crypto/des"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestDESTables checks our DES core (tables and rounds) against crypto/des:
// with no salt bits, crypt(3)'s DES is plain DES.
func TestDESTables(t *testing.T) {
	for i, box := range desS {
		for row := 0; row < 4; row++ {
			seen := 0
			for col := 0; col < 16; col++ {
				seen |= 1 << desS[i][row*16+col]
			}
			if seen != 0xffff {
				t.Fatalf("S%d row %d is not a permutation of 0..15: %v", i+1, row, box[row*16:row*16+16])
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		key, block := r.Uint64(), r.Uint64()
		var kb, in, want [8]byte
		binary.BigEndian.PutUint64(kb[:], key)
		binary.BigEndian.PutUint64(in[:], block)
		c, err := des.NewCipher(kb[:])
		if err != nil {
			t.Fatal(err)
		}
		c.Encrypt(want[:], in[:])
		k := desSubkeys(key)
		if got := desEncrypt(block, &k, 0); got != binary.BigEndian.Uint64(want[:]) {
			t.Fatalf("DES(key %016x, block %016x) = %016x, crypto/des says %x", key, block, got, want)
		}
	}
}

func TestDESCrypt(t *testing.T) {
	for _, c := range []struct{ pw, salt, want string }{
		{"08/15!test~4711", "JB", "JBOZ0DgmtucwE"}, // Dovecot's self-test sample
		{"pass", "vp", "vpvKh.SaNbR6s"},            // Dovecot's documentation
	} {
		got, err := desCrypt(c.pw, c.salt)
		if err != nil || got != c.want {
			t.Errorf("desCrypt(%q, %q) = %q, %v; want %q", c.pw, c.salt, got, err, c.want)
		}
	}
	// Only the low seven bits of the first eight bytes count.
	a, _ := desCrypt("password", "ab")
	b, _ := desCrypt("p\xe1ssword-more", "ab")
	if a != b {
		t.Errorf("DES crypt should ignore the 8th bit and bytes past 8: %q != %q", a, b)
	}
	if _, err := desCrypt("x", "a!"); err == nil {
		t.Error("desCrypt accepted a salt outside the crypt alphabet")
	}
}

// cryptSHA behaves like crypt(3) with a SHA-crypt setting: the rounds are
// clamped to the specification's range.
func cryptSHA(password, setting string, v shaCryptVariant) (string, error) {
	st, err := parseSHACryptSetting(setting, v)
	if err != nil {
		return "", err
	}
	st.rounds = max(shaCryptMinRounds, min(st.rounds, shaCryptMaxRounds))
	return shaCryptWith(password, st, v), nil
}

// TestSHACryptSpecification runs the test vectors of the SHA-crypt
// specification with their original settings (salts too long, rounds too
// low), which the stored-hash vectors cannot express.
func TestSHACryptSpecification(t *testing.T) {
	cases := []struct {
		v                       shaCryptVariant
		setting, password, want string
	}{
		{sha256Crypt, "$5$saltstring", "Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{sha256Crypt, "$5$rounds=10000$saltstringsaltstring", "Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
		{sha256Crypt, "$5$rounds=5000$toolongsaltstring", "This is just a test", "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5"},
		{sha256Crypt, "$5$rounds=1400$anotherlongsaltstring", "a very much longer text to encrypt.  This one even stretches over morethan one line.", "$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1"},
		{sha256Crypt, "$5$rounds=77777$short", "we have a short salt string but not a short password", "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/"},
		{sha256Crypt, "$5$rounds=123456$asaltof16chars..", "a short string", "$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD"},
		{sha256Crypt, "$5$rounds=10$roundstoolow", "the minimum number is still observed", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},
		{sha512Crypt, "$6$saltstring", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{sha512Crypt, "$6$rounds=10000$saltstringsaltstring", "Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
		{sha512Crypt, "$6$rounds=5000$toolongsaltstring", "This is just a test", "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
		{sha512Crypt, "$6$rounds=1400$anotherlongsaltstring", "a very much longer text to encrypt.  This one even stretches over morethan one line.", "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
		{sha512Crypt, "$6$rounds=77777$short", "we have a short salt string but not a short password", "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
		{sha512Crypt, "$6$rounds=123456$asaltof16chars..", "a short string", "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"},
		{sha512Crypt, "$6$rounds=10$roundstoolow", "the minimum number is still observed", "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
	}
	for _, c := range cases {
		got, err := cryptSHA(c.password, c.setting, c.v)
		if err != nil || got != c.want {
			t.Errorf("crypt(%q, %q) = %q, %v\n want %q", c.password, c.setting, got, err, c.want)
		}
	}
}

func TestMD5CryptSalt(t *testing.T) {
	// The salt is cut at 8 characters and at '$'.
	for _, c := range []struct{ pw, setting, want string }{
		{"Hello world!", "$1$saltstring", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"},
		{"Hello world!", "$1$saltstri$anything", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"},
		{"hello", "$1$oKnN0HHt$", "$1$oKnN0HHt$Aul2g/J4edgga3WE/03cN/"},
	} {
		if got := md5Crypt(c.pw, c.setting); got != c.want {
			t.Errorf("md5Crypt(%q, %q) = %q, want %q", c.pw, c.setting, got, c.want)
		}
	}
}
