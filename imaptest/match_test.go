package imaptest

import (
	"os"
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) []arg {
	t.Helper()
	args, err := parseArgs([]byte(s), 0)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return args
}

// pattern parses an expected untagged line as a script would.
func pattern(t *testing.T, s string) []arg {
	t.Helper()
	args, _, err := parsePattern([]byte(s))
	if err != nil {
		t.Fatalf("pattern %q: %v", s, err)
	}
	return args
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`1 FETCH (UID 5 FLAGS (\Seen))`, `1 FETCH (UID 5 FLAGS (\Seen))`},
		{`LIST () "/" ""`, `LIST () "/" ""`},
		{"1 FETCH (BODY[] {5}\r\nab\r\nc)", `1 FETCH (BODY[] {5}"ab\r\nc")`},
		{"1 FETCH (BINARY[1] ~{2}\r\n\x00x)", `1 FETCH (BINARY[1] {2}"\x00x")`},
		{`1 FETCH (BODY[HEADER.FIELDS (FROM)] "x")`, `1 FETCH (BODY[HEADER.FIELDS (FROM) ] "x")`},
		{`OK [READ-WRITE] done`, `OK [READ-WRITE] done`},
		{`STATUS x (MESSAGES nil)`, `STATUS x (MESSAGES NIL)`},
		{`"a\"b\\c"`, `"a\"b\\c"`},
	} {
		if got := formatArgs(mustParse(t, tc.in)); got != tc.want {
			t.Errorf("parse %q = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`(a`, `)`, `"abc`, "{5}\r\nab"} {
		if _, err := parseArgs([]byte(bad), 0); err == nil {
			t.Errorf("parse %q: no error", bad)
		}
	}
	// human-readable text is read leniently
	if got, err := parseArgs([]byte(`OK Logged in :) (really`), parseLenient); err != nil || len(got) != 5 {
		t.Errorf("lenient parse = %s, %v", formatArgs(got), err)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, reply string
		match          bool
	}{
		// FETCH items are unordered pairs; extra items are allowed
		{`1 fetch (uid 5 flags (\seen))`, `1 FETCH (FLAGS (\Seen) UID 5 MODSEQ (3))`, true},
		{`1 fetch (uid 5)`, `1 FETCH (UID 6)`, false},
		// FLAGS: unordered, nothing extra but \Recent
		{`1 fetch (flags (\seen \flagged))`, `1 FETCH (FLAGS (\Flagged \Recent \Seen))`, true},
		{`1 fetch (flags (\seen))`, `1 FETCH (FLAGS (\Flagged \Seen))`, false},
		{`1 fetch (flags ())`, `1 FETCH (FLAGS (\Recent))`, true},
		// explicit directives replace the defaults
		{`1 fetch (flags ($!unordered \seen))`, `1 FETCH (FLAGS (\Flagged \Seen))`, true},
		{`1 fetch (flags ($!unordered $!ban=\flagged \seen))`, `1 FETCH (FLAGS (\Flagged \Seen))`, false},
		{`1 fetch (flags ($!unordered $!ban=\deleted \seen))`, `1 FETCH (FLAGS (\Flagged \Seen))`, true},
		{`1 fetch (flags ($!unordered $!noextra $!ignore=\flagged \seen))`, `1 FETCH (FLAGS (\Flagged \Seen))`, true},
		{`1 fetch (flags ($!ordered \a \b))`, `1 FETCH (FLAGS (\b \a))`, false},
		// LIST flags: unordered, extra allowed
		{`list () "/" INBOX`, `LIST (\HasNoChildren) "/" INBOX`, true},
		{`list (\noselect) "/" x`, `LIST (\HasChildren) "/" x`, false},
		// ordered top level and plain lists must have the same length
		{`search 1 2`, `SEARCH 1 2 3`, false},
		{`thread (1 2)`, `THREAD (1 2)(3)`, false},
		{`thread (1)(2)`, `THREAD (1)(2)`, true},
		// status items are unordered pairs
		{`status box (messages 1 unseen 0)`, `STATUS box (UNSEEN 0 MESSAGES 1 RECENT 0)`, true},
		// "$" matches anything, lists included, but not NIL
		{`1 fetch (envelope $ body $)`, `1 FETCH (BODY ("text" "plain") ENVELOPE (NIL))`, true},
		{`1 fetch (x $)`, `1 FETCH (X NIL)`, false},
		{`urlfetch u NIL`, `URLFETCH u NIL`, true},
		// OK/NO/BAD/BYE: prefix match, text may follow
		{`ok [unseen 1]`, `OK [UNSEEN 1] First unseen.`, true},
		{`ok [uidvalidity $v]`, `OK [UIDVALIDITY 42] UIDs valid`, true},
		{`ok [uidnext 5]`, `OK [UIDNEXT 6] Predicted`, false},
		{`bye`, `BYE Logging out`, true},
		// strings compare case-insensitively; ${case:…} does not
		{`list () "/" ${case:INBOX}`, `LIST () "/" inbox`, false},
		{`list () "/" ${case:INBOX}`, `LIST () "/" INBOX`, true},
		// $$ is a literal $
		{`1 fetch (flags ($$hello))`, `1 FETCH (FLAGS ($hello))`, true},
		// strings are compared as C strings, up to a NUL
		{"1 fetch (binary[1] ~{3}\r\n\x00ab)", "1 FETCH (BINARY[1] ~{4}\r\n\x00xyz)", true},
	} {
		v := newVars()
		got := v.matchArgs(pattern(t, tc.pattern), mustParse(t, tc.reply), 1<<30, isStatus(tc.reply))
		if (got == full) != tc.match {
			t.Errorf("%s vs %s: match %v, want %v", tc.pattern, tc.reply, got == full, tc.match)
		}
	}
}

func isStatus(reply string) bool {
	w, _, _ := strings.Cut(reply, " ")
	return statusWords[strings.ToUpper(w)]
}

func TestVariables(t *testing.T) {
	v := newVars()
	m := func(p, r string) bool {
		t.Helper()
		v.added = v.added[:0]
		ok := v.matchArgs(pattern(t, p), mustParse(t, r), 1<<30, isStatus(r)) == full
		if !ok {
			v.revertAdded()
		}
		return ok
	}
	if !m(`1 fetch (uid $uid1)`, `1 FETCH (UID 17)`) || v.m["uid1"] != "17" {
		t.Fatalf("binding: %v", v.m)
	}
	if m(`2 fetch (uid $uid1)`, `2 FETCH (UID 18)`) {
		t.Error("a bound variable matched another value")
	}
	// bound up to the character after the variable
	if !m(`ok [copyuid $uidv $src $dst]`, `OK [COPYUID 9 1:2 7:8] Done`) || v.m["src"] != "1:2" || v.m["dst"] != "7:8" {
		t.Errorf("copyuid binding: %v", v.m)
	}
	// a mismatch undoes what it bound
	if m(`3 fetch (uid $late flags (\x))`, `3 FETCH (UID 5 FLAGS (\y))`) {
		t.Error("mismatch matched")
	}
	if _, ok := v.m["late"]; ok {
		t.Error("variable bound by a mismatching reply was kept")
	}
	// reused in a set
	v.m["a"], v.m["b"] = "3", "9"
	if !m(`search $a:$b`, `SEARCH 3:9`) || m(`search $a:$b`, `SEARCH 3:8`) {
		t.Error("set with variables")
	}
	// modseqs must grow by at least the index gap
	if !m(`1 fetch (modseq ($modseq2))`, `1 FETCH (MODSEQ (10))`) {
		t.Error("first modseq")
	}
	if m(`1 fetch (modseq ($modseq5))`, `1 FETCH (MODSEQ (12))`) {
		t.Error("modseq5=12 after modseq2=10 accepted")
	}
	// commands: variables, $$, $N sequences
	v.seqmap = []uint32{1, 2, 3}
	v.expunge(1)
	out, err := v.expandCommand([]byte(`uid store $a,$b flags ($$x) $3 $1`), false)
	if err != nil || string(out) != `uid store 3,9 flags ($x) 2 <expunged>` {
		t.Errorf("expandCommand = %q, %v", out, err)
	}
	if _, err := v.expandCommand([]byte(`fetch $nope`), false); err == nil {
		t.Error("uninitialized variable accepted")
	}
}

func TestSplitLiterals(t *testing.T) {
	segs := splitLiterals([]byte("APPEND x {3}\r\nabc ~{2}\r\n\x00\n tail"))
	if len(segs) != 3 || string(segs[0].text) != "APPEND x " || string(segs[0].lit) != "abc" ||
		string(segs[1].text) != " " || !segs[1].binary || string(segs[1].lit) != "\x00\n" ||
		string(segs[2].text) != " tail" {
		t.Errorf("segments %+v", segs)
	}
}

func TestAppendHasBody(t *testing.T) {
	for in, want := range map[string]bool{
		`box`:         false,
		`box (\Seen)`: false,
		`box (\Seen) "1-Jan-2020 00:00:00 +0000"`: false,
		"box {3}\r\nabc":          true,
		"box (\\Seen) {3}\r\nabc": true,
		`box catenate (url "/x")`: true,
	} {
		if got := appendHasBody([]byte(in), false); got != want {
			t.Errorf("appendHasBody(%q) = %v", in, got)
		}
	}
}

func TestMbox(t *testing.T) {
	data := "From a@b  Fri Feb 22 17:06:23 2008\nSubject: 1\n\nbody\n\n" +
		"From a@b  Sat Mar 24 23:00:00 2007 +0200\nSubject: 2\n\nFrom me, hello\n"
	msgs, err := splitMbox([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || string(msgs[0].data) != "Subject: 1\r\n\r\nbody\r\n\r\n" ||
		string(msgs[1].data) != "Subject: 2\r\n\r\nFrom me, hello\r\n" {
		t.Fatalf("messages %+v", msgs)
	}
	if got := msgs[1].date.Format("02-Jan-2006 15:04:05 -0700"); got != "24-Mar-2007 23:00:00 +0200" {
		t.Errorf("date %s", got)
	}
	src := &mboxSource{msgs: msgs}
	src.get()
	src.get()
	if !src.eof() || string(src.get().data) != string(msgs[0].data) {
		t.Error("source does not wrap")
	}
}

func TestMailboxURL(t *testing.T) {
	if got := mailboxURL("imaptest"); got != "imaptest" {
		t.Error(got)
	}
	if got := mailboxURL("a;b&AOQ-"); got != "a%3Bb%C3%A4" {
		t.Error(got)
	}
}

func TestReadExpected(t *testing.T) {
	p := t.TempDir() + "/EXPECTED.md"
	writeFile(t, p, "# Expected failures\n\nSome text.\n\n- fetch: BODYSTRUCTURE extension data missing\n- thread5: not built\n")
	m, err := ReadExpected(p)
	if err != nil || len(m) != 2 || m["thread5"] != "not built" {
		t.Errorf("ReadExpected = %v, %v", m, err)
	}
	writeFile(t, p, "- fetch\n")
	if _, err := ReadExpected(p); err == nil {
		t.Error("entry without a reason accepted")
	}
	writeFile(t, p, "- a: x\n- a: y\n")
	if _, err := ReadExpected(p); err == nil {
		t.Error("duplicate entry accepted")
	}
}

func TestVerdict(t *testing.T) {
	s := &Script{Name: "x"}
	for _, tc := range []struct {
		status   Status
		expected bool
		want     verdictKind
	}{
		{Passed, false, verdictPassed},
		{Failed, false, verdictFailed},
		{Failed, true, verdictExpectedFailure},
		{Passed, true, verdictFixed},
		{Skipped, true, verdictSkipped},
	} {
		if got, _ := verdict(s, &Result{Status: tc.status}, "why", tc.expected); got != tc.want {
			t.Errorf("verdict(%v, expected=%v) = %v, want %v", tc.status, tc.expected, got, tc.want)
		}
	}
}

// The repository's list must parse and name only real scripts.
func TestExpectedFileParses(t *testing.T) {
	m := ExpectedFailures(t)
	dir := Dir(t)
	scripts, err := LoadScripts(dir+"/tests", nil)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, s := range scripts {
		known[s.Name] = true
	}
	for name := range m {
		if !known[name] {
			t.Errorf("EXPECTED.md names %q, not an imaptest script", name)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
