package message

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics or fails on any input, that
// every offset stays inside the message and parts nest, and that the
// encoding round-trips. Seeds: testdata/message/seeds/*.eml.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "testdata", "message", "seeds", "*.eml"))
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(crlf(nestedMsg)))
	f.Add([]byte(strings.ReplaceAll(nestedMsg, "\r\n", "\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Parse failed: %v", err)
		}
		checkInvariants(t, p, data)
		checkRoundTrip(t, p)
		_ = p.AppendBodyStructure(nil, true)
		_ = p.AppendEnvelope(nil)
		// Unmarshal must never panic on corrupt input either.
		enc := p.Marshal()
		if len(enc) > 1 {
			enc[len(data)%len(enc)] ^= 0x5a
			_, _ = Unmarshal(enc)
		}
	})
}

// The benchmarks: Parse throughput on a typical 10 KB message and a 1 MB one
// with an attachment, and decoding a typical stored Parsed (what FETCH
// 1:* ENVELOPE BODYSTRUCTURE costs per message).

func benchMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString(crlf(`Return-Path: <alice@example.org>
Received: from mx.example.org (mx.example.org [192.0.2.1])
	by mail.example.com with ESMTPS id 4Xyz; Tue, 2 Jan 2024 10:00:01 +0100
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=s1;
	h=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaXMgbG9uZyBlbm91Z2g=
From: Alice Example <alice@example.org>
To: Bob <bob@example.com>, "Carol C." <carol@example.com>
Cc: team@example.com
Subject: =?utf-8?q?Re:_Quarterly_report_=E2=80=93_draft?=
Date: Tue, 2 Jan 2024 10:00:00 +0100
Message-ID: <20240102090000.1234@example.org>
In-Reply-To: <20240101080000.999@example.com>
References: <20231231070000.1@example.com> <20240101080000.999@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="==outer=="

--==outer==
Content-Type: multipart/alternative; boundary="==alt=="

--==alt==
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

`))
	line := "Here is the draft of the quarterly report, as promised. Comments welcome.\r\n"
	for b.Len() < 3000 {
		b.WriteString(line)
	}
	b.WriteString(crlf("--==alt==\nContent-Type: text/html; charset=utf-8\n\n"))
	for b.Len() < 6000 {
		b.WriteString("<p>" + line[:len(line)-2] + "</p>\r\n")
	}
	b.WriteString(crlf("--==alt==--\n--==outer==\nContent-Type: application/pdf; name=report.pdf\nContent-Disposition: attachment; filename=report.pdf\nContent-Transfer-Encoding: base64\n\n"))
	for b.Len() < size-40 {
		b.WriteString("JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZU\r\n")
	}
	b.WriteString(crlf("--==outer==--\n"))
	return b.Bytes()
}

func benchParse(b *testing.B, size int) {
	msg := benchMessage(size)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse10KB(b *testing.B) { benchParse(b, 10<<10) }
func BenchmarkParse1MB(b *testing.B)  { benchParse(b, 1<<20) }

func BenchmarkUnmarshal(b *testing.B) {
	p, err := Parse(bytes.NewReader(benchMessage(10 << 10)))
	if err != nil {
		b.Fatal(err)
	}
	enc := p.Marshal()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(enc)), "encoded-bytes")
}

// BenchmarkFetchRender is Unmarshal plus rendering ENVELOPE and
// BODYSTRUCTURE: the per-message work of FETCH 1:* (ENVELOPE BODYSTRUCTURE).
func BenchmarkFetchRender(b *testing.B) {
	p, err := Parse(bytes.NewReader(benchMessage(10 << 10)))
	if err != nil {
		b.Fatal(err)
	}
	enc := p.Marshal()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		q, err := Unmarshal(enc)
		if err != nil {
			b.Fatal(err)
		}
		buf = q.AppendEnvelope(buf[:0])
		buf = q.AppendBodyStructure(buf, true)
	}
}
