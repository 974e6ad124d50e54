package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const sieveTestMessage = `From: Alice <alice@example.org>
To: Bob <bob@example.com>
Subject: Quarterly report
Message-ID: <cli-1@example.org>

Numbers.
`

func TestSieveCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.sieve", "require \"fileinto\";\nif header :contains \"subject\" \"report\" { fileinto \"Reports\"; }\n")
	bad := writeFile(t, dir, "bad.sieve", "require \"fileinto\";\nfileinto \"x\"\nkeep;\n")
	if r := lb(t, dir, "", "sieve", "check", good); r.code != 0 {
		t.Fatalf("check good: exit %d: %s", r.code, r.stderr)
	}
	r := lb(t, dir, "", "sieve", "check", good, bad)
	if r.code != 1 {
		t.Fatalf("check bad: exit %d, want 1: %s", r.code, r.stderr)
	}
	if !regexp.MustCompile(`bad\.sieve:\d+:\d+: `).MatchString(r.stderr) {
		t.Fatalf("check bad: no FILE:LINE:COL in %q", r.stderr)
	}
	if strings.Contains(r.stderr, "good.sieve") {
		t.Fatalf("check: good script reported: %q", r.stderr)
	}
	if r := lb(t, dir, "", "sieve", "check"); r.code != 2 {
		t.Fatalf("check without files: exit %d, want 2", r.code)
	}
}

func TestSieveTest(t *testing.T) {
	dir := t.TempDir()
	msg := writeFile(t, dir, "m.eml", sieveTestMessage)
	script := writeFile(t, dir, "s.sieve", "require \"fileinto\";\nif header :contains \"subject\" \"report\" { fileinto \"Reports\"; }\nredirect \"carol@example.net\";\n")
	r := lb(t, dir, "", "sieve", "test", script, msg)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := "\nPerformed actions:\n\n" +
		" * store message in folder: Reports\n" +
		" * redirect message to: <carol@example.net>\n" +
		"\nImplicit keep:\n\n  (none)\n\n"
	if r.stdout != want {
		t.Fatalf("output:\n%q\nwant:\n%q", r.stdout, want)
	}

	keep := writeFile(t, dir, "k.sieve", "# nothing\n")
	r = lb(t, dir, "", "sieve", "test", "-m", "Other", keep, msg)
	want = "\nPerformed actions:\n\n  (none)\n\nImplicit keep:\n\n * store message in folder: Other\n\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("implicit keep with -m: exit %d, output %q, want %q (%s)", r.code, r.stdout, want, r.stderr)
	}

	envelope := writeFile(t, dir, "e.sieve", "require [\"envelope\", \"fileinto\"];\nif envelope :is \"from\" \"\" { fileinto \"Null\"; }\nif envelope :is \"to\" \"bob@example.com\" { fileinto \"Bob\"; }\n")
	r = lb(t, dir, "", "sieve", "test", "-f", "<>", "-r", "bob@example.com", envelope, msg)
	if r.code != 0 || !strings.Contains(r.stdout, "folder: Null\n") || !strings.Contains(r.stdout, "folder: Bob\n") {
		t.Fatalf("envelope: exit %d, output %q (%s)", r.code, r.stdout, r.stderr)
	}

	bad := writeFile(t, dir, "bad.sieve", "frobnicate;\n")
	r = lb(t, dir, "", "sieve", "test", bad, msg)
	if r.code != 1 || !regexp.MustCompile(`bad\.sieve:1:\d+: `).MatchString(r.stderr) {
		t.Fatalf("bad script: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestSieveStorage(t *testing.T) {
	dir := t.TempDir()
	ok := func(r result) result {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		return r
	}
	ok(lb(t, dir, "", "domain", "add", "example.com"))
	ok(lb(t, dir, "s3cret\n", "user", "add", "bob@example.com"))

	good := "require \"fileinto\";\nfileinto \"Archive\";\n"
	ok(lb(t, dir, good, "sieve", "put", "bob@example.com", "main", "-"))
	file := writeFile(t, dir, "second.sieve", "keep;\n")
	ok(lb(t, dir, "", "sieve", "put", "bob@example.com", "second", file))

	// Includes are checked when the script runs, as over ManageSieve: a
	// script may name one that is uploaded next, or an optional one.
	incl := "require \"include\";\ninclude :personal \"later\";\ninclude :optional :global \"spam\";\n"
	ok(lb(t, dir, incl, "sieve", "put", "bob@example.com", "with-include", "-"))

	r := lb(t, dir, "if true {\n", "sieve", "put", "bob@example.com", "broken", "-")
	if r.code != 1 || !regexp.MustCompile(`broken:\d+:\d+: `).MatchString(r.stderr) {
		t.Fatalf("put of a broken script: exit %d, stderr %q", r.code, r.stderr)
	}

	r = ok(lb(t, dir, "", "sieve", "list", "bob@example.com"))
	if !strings.Contains(r.stdout, "main") || !strings.Contains(r.stdout, "second") || strings.Contains(r.stdout, "broken") || regexp.MustCompile(`(?m)^(main|second)\s+ACTIVE`).MatchString(r.stdout) {
		t.Fatalf("list: %q", r.stdout)
	}
	if r = ok(lb(t, dir, "", "sieve", "get", "bob@example.com", "main")); r.stdout != good {
		t.Fatalf("get: %q, want %q", r.stdout, good)
	}
	ok(lb(t, dir, "", "sieve", "activate", "bob@example.com", "main"))
	r = ok(lb(t, dir, "", "sieve", "list", "bob@example.com"))
	if !regexp.MustCompile(`(?m)^main\s+ACTIVE`).MatchString(r.stdout) {
		t.Fatalf("list after activate: %q", r.stdout)
	}
	if r = lb(t, dir, "", "sieve", "delete", "bob@example.com", "main"); r.code == 0 {
		t.Fatalf("delete of the active script succeeded")
	}
	if r = lb(t, dir, "", "sieve", "activate", "bob@example.com", "nosuch"); r.code == 0 {
		t.Fatalf("activate of a missing script succeeded")
	}
	ok(lb(t, dir, "", "sieve", "deactivate", "bob@example.com"))
	ok(lb(t, dir, "", "sieve", "delete", "bob@example.com", "main"))
	r = ok(lb(t, dir, "", "sieve", "list", "bob@example.com"))
	if strings.Contains(r.stdout, "main") || !strings.Contains(r.stdout, "second") {
		t.Fatalf("list after delete: %q", r.stdout)
	}
	if r = lb(t, dir, "", "sieve", "get", "bob@example.com", "main"); r.code == 0 {
		t.Fatalf("get of a deleted script succeeded")
	}
	if r = lb(t, dir, "", "sieve", "list", "nobody@example.com"); r.code == 0 {
		t.Fatalf("list for an unknown user succeeded")
	}
	if r = lb(t, dir, "", "sieve", "frob"); r.code != 2 {
		t.Fatalf("unknown verb: exit %d, want 2", r.code)
	}
}
