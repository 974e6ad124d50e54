package auth

import (
	"testing"
	"time"
)

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPasswordArgon2id(b *testing.B) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := VerifyPassword(h, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkVerifyPasswordSHA512Crypt(b *testing.B) {
	// Dovecot's default rounds (5000).
	const h = "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
	for b.Loop() {
		if ok, err := VerifyPassword(h, "Hello world!"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkVerifyPasswordSSHA512(b *testing.B) {
	var h string
	for _, v := range loadVectors(b, "vectors.txt") {
		if v.label == "doveadm:SSHA512" && v.password == "secret" {
			h = v.hash
		}
	}
	for b.Loop() {
		if ok, err := VerifyPassword(h, "secret"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCacheHit is what a reconnecting client pays instead of argon2id.
func BenchmarkCacheHit(b *testing.B) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	v := Verifier{Cache: NewCache(time.Minute, 100_000)}
	if ok, err := v.Verify("alice@example.org", h, "correct horse battery staple"); !ok || err != nil {
		b.Fatal(ok, err)
	}
	for b.Loop() {
		if ok, err := v.Verify("alice@example.org", h, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkCacheHitParallel(b *testing.B) {
	c := NewCache(time.Minute, 100_000)
	c.Add("alice@example.org", "pw", "{PLAIN}pw")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !c.Lookup("alice@example.org", "pw", "{PLAIN}pw") {
				b.Fatal("miss")
			}
		}
	})
}
