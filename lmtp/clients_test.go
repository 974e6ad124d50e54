package lmtp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// spamMsg carries the header fields spam filters and MTAs add, in the
// order they write them; all of it must come back byte for byte.
const spamMsg = "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n" +
	"\tby mail.example.com (Postfix) with ESMTPS id 4Xyz1234\r\n" +
	"\tfor <bob@example.com>; Tue,  2 Jan 2024 10:00:01 +0100 (CET)\r\n" +
	"X-Spam-Checker-Version: SpamAssassin 4.0.0 (2022-12-13) on mail.example.com\r\n" +
	"X-Spam-Flag: NO\r\n" +
	"X-Spam-Level: **\r\n" +
	"X-Spam-Status: No, score=2.1 required=5.0 tests=BAYES_50,DKIM_SIGNED,\r\n" +
	"\tDKIM_VALID,HTML_MESSAGE,SPF_HELO_NONE autolearn=no autolearn_force=no\r\n" +
	"\tversion=4.0.0\r\n" +
	"X-Spam-Score: 2.1\r\n" +
	"X-Spam-Report: \r\n" +
	"\t*  0.8 BAYES_50 BODY: Bayes spam probability is 40 to 60%\r\n" +
	"\t*      [score: 0.5000]\r\n" +
	"X-Rspamd-Queue-Id: 4Xyz1234\r\n" +
	"X-Rspamd-Server: rspamd1\r\n" +
	"X-Rspamd-Action: no action\r\n" +
	"X-Rspamd-Score: -0.10 / 15.00\r\n" +
	"X-Virus-Scanned: clamav-milter 1.0.1 at mail.example.com\r\n" +
	"X-Virus-Status: Clean\r\n" +
	"Authentication-Results: mail.example.com;\r\n" +
	"\tdkim=pass (2048-bit key; unprotected) header.d=example.org header.i=@example.org header.b=\"abcDEF12\";\r\n" +
	"\tspf=pass (mail.example.com: domain of alice@example.org designates 192.0.2.1 as permitted sender) smtp.mailfrom=alice@example.org;\r\n" +
	"\tdmarc=pass (p=reject dis=none) header.from=example.org\r\n" +
	"ARC-Seal: i=1; a=rsa-sha256; t=1704186001; cv=none; d=example.com; s=arc;\r\n" +
	"\tb=Zm9vYmFy\r\n" +
	"ARC-Authentication-Results: i=1; mail.example.com; dkim=pass header.d=example.org\r\n" +
	"Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1\r\n" +
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=s1;\r\n" +
	"\th=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n" +
	"\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==\r\n" +
	"X-Original-To: bob@example.com\r\n" +
	"From: Alice <alice@example.org>\r\n" +
	"To: Bob <bob@example.com>\r\n" +
	"Subject: Spam headers stay  as  written\r\n" +
	"Date: Tue, 2 Jan 2024 10:00:00 +0100\r\n" +
	"Message-ID: <spam-headers@example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Trailing spaces stay.   \r\n" +
	".A line that starts with a dot.\r\n" +
	"\r\n"

// smtplibScript drives a transaction with Python's smtplib.LMTP and
// prints every reply as JSON. smtplib reads one reply after DATA; LMTP
// sends one per accepted recipient, so the script reads the others with
// getreply().
const smtplibScript = `
import json, smtplib, sys
addr, sender, rcpts, path, opts = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4], sys.argv[5:]
s = smtplib.LMTP(addr) if addr.startswith("/") else smtplib.LMTP(*addr.rsplit(":", 1))
s.command_encoding = "utf-8"
out = {"lhlo": list(s.ehlo())[0], "esmtp": sorted(s.esmtp_features)}
out["mail"] = s.mail(sender, opts)[0]
out["rcpt"], ok = [], 0
for r in rcpts:
    code, msg = s.rcpt(r)
    out["rcpt"].append([code, msg.decode()])
    ok += code == 250
out["data"] = []
if ok:
    code, msg = s.data(open(path, "rb").read())
    out["data"].append([code, msg.decode()])
    for _ in range(ok - 1):
        code, msg = s.getreply()
        out["data"].append([code, msg.decode()])
s.quit()
print(json.dumps(out))
`

type smtplibResult struct {
	LHLO  int      `json:"lhlo"`
	ESMTP []string `json:"esmtp"`
	Mail  int      `json:"mail"`
	RCPT  [][2]any `json:"rcpt"`
	Data  [][2]any `json:"data"`
}

func runSmtplib(t *testing.T, e *testEnv, sender string, rcpts []string, msg []byte, opts ...string) smtplibResult {
	t.Helper()
	py := needProgram(t, "python3")
	dir := t.TempDir()
	script, path := filepath.Join(dir, "lmtp.py"), filepath.Join(dir, "msg.eml")
	if err := os.WriteFile(script, []byte(smtplibScript), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{script, e.addr, sender, strings.Join(rcpts, ","), path}, opts...)
	out, err := exec.Command(py, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("python3: %v\n%s", err, stderr)
	}
	var res smtplibResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return res
}

// codes turns [code, text] pairs into reply lines.
func codes(rs [][2]any) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%v %v", r[0], r[1]))
	}
	return out
}

func TestSmtplibRecipients(t *testing.T) {
	e := newEnv(t)
	msg := []byte(simpleMsg + strings.Repeat("Lorem ipsum dolor sit amet.\r\n", 100))
	res := runSmtplib(t, e, "alice@example.org",
		[]string{"bob@example.com", "nobody@example.com", "full@example.com", "tiny@example.com", "carol@example.com"}, msg)
	if res.LHLO != 250 || res.Mail != 250 {
		t.Fatalf("LHLO %d, MAIL %d", res.LHLO, res.Mail)
	}
	for _, ext := range []string{"8bitmime", "chunking", "enhancedstatuscodes", "pipelining", "size", "smtputf8"} {
		if !strings.Contains(strings.Join(res.ESMTP, " "), ext) {
			t.Errorf("smtplib saw no %s in %v", ext, res.ESMTP)
		}
	}
	checkCodes(t, codes(res.RCPT), "250 2.0.0", "550 5.1.1", "552 5.2.2", "250 2.0.0", "250 2.0.0")
	checkCodes(t, codes(res.Data), "250 2.0.0 <bob@example.com>", "552 5.2.2 <tiny@example.com>", "250 2.0.0 <carol@example.com>")
	splitTrace(t, e.inbox("bob@example.com")[0], msg)
	splitTrace(t, e.inbox("carol@example.com")[0], msg)
	if n := len(e.inbox("tiny@example.com")); n != 0 {
		t.Errorf("tiny has %d messages", n)
	}
}

func TestSmtplibSpamHeaders(t *testing.T) {
	e := newEnv(t)
	res := runSmtplib(t, e, "alice@example.org", []string{"bob@example.com"}, []byte(spamMsg))
	checkCodes(t, codes(res.Data), "250 2.0.0")
	// smtplib dot-stuffs the leading dot; the server unstuffs it.
	tr := splitTrace(t, e.inbox("bob@example.com")[0], []byte(spamMsg))
	if !strings.HasPrefix(tr, "Return-Path: <alice@example.org>\r\nDelivered-To: bob@example.com\r\nReceived: from ") {
		t.Errorf("trace headers:\n%s", tr)
	}
}

func TestSmtplibEightBit(t *testing.T) {
	e := newEnv(t)
	msg := []byte("From: Zoë <zoe@example.org>\r\nSubject: Grüße\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe aus K\xf6ln \xe9t\xe9\r\n\xff\xfe\x80\r\n")
	res := runSmtplib(t, e, "zoë@example.org", []string{"bob@example.com"}, msg, "BODY=8BITMIME", "SMTPUTF8")
	if res.Mail != 250 {
		t.Fatalf("MAIL: %d", res.Mail)
	}
	checkCodes(t, codes(res.Data), "250 2.0.0")
	tr := splitTrace(t, e.inbox("bob@example.com")[0], msg)
	if !strings.Contains(tr, "Return-Path: <zoë@example.org>") {
		t.Errorf("trace headers:\n%s", tr)
	}
}

func TestSmtplibUnixSocket(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.socket = true })
	res := runSmtplib(t, e, "alice@example.org", []string{"bob@example.com", "carol@example.com"}, []byte(simpleMsg))
	checkCodes(t, codes(res.Data), "250 2.0.0", "250 2.0.0")
	if !bytes.HasSuffix(e.inbox("carol@example.com")[0], []byte(simpleMsg)) {
		t.Error("carol's copy does not end with the message")
	}
}

// swaks runs swaks against the server and returns its transcript.
func swaks(t *testing.T, e *testEnv, args ...string) string {
	t.Helper()
	bin := needProgram(t, "swaks")
	host, port, _ := strings.Cut(e.addr, ":")
	all := append([]string{"--protocol", "LMTP", "--server", host, "--port", port, "--helo", "swaks.test", "--timeout", "30"}, args...)
	out, _ := exec.Command(bin, all...).CombinedOutput() // exits non-zero when a recipient fails
	return string(out)
}

func TestSwaks(t *testing.T) {
	e := newEnv(t)
	out := swaks(t, e, "--from", "alice@example.org", "--to", "bob@example.com,nobody@example.com,full@example.com,tiny@example.com,carol@example.com",
		"--add-header", "X-Padding: "+strings.Repeat("p", 3000))
	for _, want := range []string{
		"<-  250-PIPELINING", "<-  250-CHUNKING", "<-  250-8BITMIME", "<-  250-ENHANCEDSTATUSCODES", "<-  250-SMTPUTF8",
		"<** 550 5.1.1 <nobody@example.com>", "<** 552 5.2.2 <full@example.com>",
		"<-  250 2.0.0 <bob@example.com> Saved", "<** 552 5.2.2 <tiny@example.com> Mailbox is full", "<-  250 2.0.0 <carol@example.com> Saved",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("swaks transcript lacks %q:\n%s", want, out)
		}
	}
	if len(e.inbox("bob@example.com")) != 1 || len(e.inbox("carol@example.com")) != 1 {
		t.Error("bob and carol should have one message each")
	}
}

func TestSwaksPipelining(t *testing.T) {
	e := newEnv(t)
	out := swaks(t, e, "--pipeline", "--from", "alice@example.org", "--to", "bob@example.com,nobody@example.com,carol@example.com")
	for _, want := range []string{"<** 550 5.1.1 <nobody@example.com>", "<-  250 2.0.0 <bob@example.com> Saved", "<-  250 2.0.0 <carol@example.com> Saved"} {
		if !strings.Contains(out, want) {
			t.Errorf("swaks --pipeline transcript lacks %q:\n%s", want, out)
		}
	}
	// swaks sends the whole envelope in one write when it pipelines.
	if !strings.Contains(out, " -> MAIL FROM:<alice@example.org>\n -> RCPT TO:<bob@example.com>") {
		t.Errorf("swaks did not pipeline:\n%s", out)
	}
}

func TestSwaksSpamHeaders(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(t.TempDir(), "spam.eml")
	if err := os.WriteFile(path, []byte(spamMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := swaks(t, e, "--from", "alice@example.org", "--to", "carol@example.com", "--data", "@"+path)
	if !strings.Contains(out, "<-  250 2.0.0 <carol@example.com> Saved") {
		t.Fatalf("swaks transcript:\n%s", out)
	}
	// swaks ends the data with a CRLF of its own before the final dot.
	splitTrace(t, e.inbox("carol@example.com")[0], []byte(spamMsg+"\r\n"))
}
