package imaptest

import (
	"path/filepath"
	"strings"
	"testing"
)

const testMbox = `From user@domain  Fri Feb 22 17:06:23 2008
From: one@example.org
Subject: one

body one

From user@domain  Fri Feb 22 17:07:23 2008 +0200
From: two@example.org
Subject: two

body two
`

// TestRunnerVerdicts plays small scripts against Dovecot and checks that the
// runner passes what should pass and fails what should fail, with a report
// that says why.
func TestRunnerVerdicts(t *testing.T) {
	d := needDovecot(t, "")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "default.mbox"), testMbox)
	for _, tc := range []struct {
		name, script string
		want         Status
		says         string // in the failure report or skip reason
	}{
		{"select", "state: created\n\nselect $mailbox\n* 0 exists\n* ok [uidvalidity $v]\nok [read-write]\n", Passed, ""},
		{"wrong-count", "state: created\n\nok select $mailbox\n* 1 exists\n", Failed, "missing 1 untagged replies"},
		{"banned", "state: created\n\nok select $mailbox\n! 0 exists\n", Failed, "unexpected untagged match"},
		{"wrong-status", "state: created\n\nno select $mailbox\n", Failed, "expected tagged reply 'no', got 'OK"},
		{"wrong-code", "state: created\n\nexamine $mailbox\nok [read-write]\n", Failed, "expected tagged reply 'ok [read-write]'"},
		{"unexpected-bad", "state: auth\n\nok fetch 1 uid\n", Failed, "BAD reply for command"},
		{"expected-bad", "state: auth\n\nbad fetch 1 uid\nok noop\n", Passed, ""},
		{"any-reply", "state: auth\n\n\"\" delete ${mailbox}-none\n", Passed, ""},
		{"appended", "messages: all\n\nok fetch 1:* (uid flags)\n* 1 fetch (uid $u1 flags ())\n* 2 fetch (uid $u2 flags ())\nok uid fetch $u2 uid\n* 2 fetch (uid $u2)\n", Passed, ""},
		{"rebound", "messages: all\n\nok fetch 1 uid\n* 1 fetch (uid $u)\nok fetch 2 uid\n* 2 fetch (uid $u)\n", Failed, "best match:       * 2 FETCH (UID 2)"},
		{"unset-variable", "messages: 1\n\nok fetch $nope uid\n", Failed, "uninitialized variable: nope"},
		{"flags-noextra", "messages: 1\n\nok store 1 flags (\\seen \\flagged)\n* 1 fetch (flags (\\seen))\n", Failed, "missing 1"},
		{"flags-extra", "messages: 1\n\nok store 1 flags (\\seen \\flagged)\n* 1 fetch (flags ($!unordered \\seen))\n", Passed, ""},
		{"flags-ban", "messages: 1\n\nok store 1 flags (\\seen \\flagged)\n* 1 fetch (flags ($!unordered $!ban=\\flagged \\seen))\n", Failed, "missing 1"},
		{"literal-body", "messages: 1\n\nok fetch 1 body.peek[text]\n* 1 fetch (body[text] {{{\nbody one\n\n\n}}})\n", Passed, ""},
		{"literal-body-wrong", "messages: 1\n\nok fetch 1 body.peek[text]\n* 1 fetch (body[text] {{{\nbody two\n\n\n}}})\n", Failed, "missing 1"},
		// Dovecot keeps INTERNALDATE in UTC
		{"internaldate", "messages: all\n\nok fetch 2 internaldate\n* 2 fetch (internaldate \"22-Feb-2008 15:07:23 +0000\")\n", Passed, ""},
		{"pipelined", "state: auth\n\ntag1 create ${mailbox}a\ntag2 create ${mailbox}b\ntag2 ok\ntag1 ok\n" +
			"tag1 status ${mailbox}a (messages)\ntag2 status ${mailbox}b (messages)\n* status ${mailbox}a (messages 0)\n* status ${mailbox}b (messages 0)\ntag1 ok\ntag2 ok\n", Passed, ""},
		{"expunge-seq", "connections: 2\nmessages: all\n\n1 ok store 1 +flags \\deleted\n1 ok expunge\n2 ok noop\n* $1 expunge\n", Passed, ""},
		{"expunge-seq-wrong", "connections: 2\nmessages: all\n\n1 ok store 1 +flags \\deleted\n1 ok expunge\n2 ok noop\n* $2 expunge\n", Failed, "missing 1"},
		{"bare-append", "state: created\n\nok append\nok append\nok select $mailbox\n* 2 exists\nok fetch 1 body.peek[header.fields (subject)]\n* 1 fetch (body[header.fields (subject)] {{{\nSubject: one\n\n\n}}})\n", Passed, ""},
		{"append-trycreate", "state: created\n\nappend ${mailbox}-none\nno [trycreate]\n", Passed, ""},
		{"extra-untagged", "state: created\nignore_extra_untagged: no\n\nok select $mailbox\n* 0 exists\n", Failed, "unexpected untagged replies received"},
		{"logout-bye", "state: auth\n\nok logout\n* bye\n", Passed, ""},
		{"no-bye", "state: auth\n\nok noop\n* bye\n", Failed, "missing 1"},
		{"capability", "capabilities: X-IMAPTEST-NONE\n\nok noop\n", Skipped, "X-IMAPTEST-NONE"},
		{"user2", "connections: 2\nstate: auth\nuser 2: $user2\n\n2 ok list \"\" \"\"\n* list () $sep \"\"\n", Passed, ""},
		{"output", "state: auth\n\nok list \"\" \"\"\n* list () $sep $root\n!output separator $sep\n", Passed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseScript(tc.name, []byte(tc.script), nil)
			if err != nil {
				t.Fatal(err)
			}
			s.Mbox = filepath.Join(dir, "default.mbox")
			res := PlayScript(s, Target{Addr: d.addr, NewAccount: d.newAccount})
			report := strings.Join(res.Failures, "\n") + res.Reason
			if res.Status != tc.want || !strings.Contains(report, tc.says) {
				t.Errorf("status %v, want %v (saying %q):\n%s", res.Status, tc.want, tc.says, report)
			}
			if tc.name == "output" && (len(res.Output) != 1 || !strings.HasPrefix(res.Output[0], "separator ")) {
				t.Errorf("!output gave %q", res.Output)
			}
		})
	}
}

// TestDovecotSyncLiterals plays every script against a Dovecot that does
// not advertise LITERAL+, so each literal waits for the server's "+".
func TestDovecotSyncLiterals(t *testing.T) {
	Dir(t)
	caps := "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES " +
		"THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE " +
		"UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH " +
		"LIST-STATUS BINARY MOVE STATUS=SIZE NOTIFY"
	d := needDovecot(t, "imap_capability = "+caps+"\n")
	RunScripts(t, Target{Addr: d.addr, NewAccount: d.newAccount, Parallel: 16}, nil)
}
