package testcert

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
)

func TestNew(t *testing.T) {
	c := New(t, "localhost", "127.0.0.1")
	leaf := c.Server.Certificates[0].Leaf
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: c.Roots}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: c.Roots}); err == nil {
		t.Error("verified for a host it was not made for")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: x509.NewCertPool()}); err == nil {
		t.Error("verified without its roots")
	}
	b, err := os.ReadFile(c.WritePEM(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := pem.Decode(b); p == nil || p.Type != "CERTIFICATE" || !leaf.Equal(mustParse(t, p.Bytes)) {
		t.Errorf("PEM file does not hold the certificate: %q", b)
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
