package imap

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"letterbox/imaptest"
)

// TestImaptest plays Dovecot imaptest's scripted tests against the server:
// every script whose capabilities we advertise must pass, except those
// listed with a reason in testdata/imaptest/EXPECTED.md.
func TestImaptest(t *testing.T) {
	e := newTestEnv(t)
	var n atomic.Int64
	target := imaptest.Target{
		Addr: e.addr,
		NewAccount: func() (imaptest.Account, error) {
			login := fmt.Sprintf("imaptest%d@example.com", n.Add(1))
			_, err := e.store.CreateAccount(context.Background(), login, "{PLAIN}pass", 0)
			return imaptest.Account{User: login, Password: "pass"}, err
		},
		Expected: imaptest.ExpectedFailures(t),
	}
	imaptest.RunScripts(t, target, nil)
}
