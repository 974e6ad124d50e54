package imap

import (
	"fmt"
	"testing"
)

func TestZZExplore(t *testing.T) {
	e := newTestEnv(t)
	e.appendMsg("INBOX", fetchSimple)
	e.appendMsg("INBOX", fetchMultipart)
	c := e.login()
	c.ok("SELECT INBOX")
	for _, cmd := range []string{
		"FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY)",
		"FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject X-Folded)] BODY.PEEK[TEXT]<2.5>)",
		"FETCH 2 (BODYSTRUCTURE)",
		"FETCH 2 (BODY.PEEK[1] BODY.PEEK[2.2.MIME] BODY.PEEK[4.HEADER] BODY.PEEK[4.1] BINARY.SIZE[3] BINARY.PEEK[3] BINARY.PEEK[5])",
		"UID FETCH 2 (BODY[TEXT]<0.20>)",
		"FETCH 1:2 FAST",
	} {
		u, st := c.cmd(cmd)
		fmt.Printf(">>> %s\n", cmd)
		for _, l := range u {
			fmt.Printf("%q\n", l)
		}
		fmt.Println(st)
	}
}
