package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/emersion/go-smtp"

	"letterbox/lmtp"
	"letterbox/storage"
)

func runDeliver(ctx context.Context, args []string) error {
	fs, cfgPath := flagSet("deliver", "-r RECIPIENT [-f SENDER] [-m MAILBOX]",
		"Reads one message on standard input and delivers it as LMTP does, for an MTA that\n"+
			"pipes mail (Postfix mailbox_command or a pipe transport). A leading mbox \"From \"\n"+
			"line is dropped; without -f its sender becomes the Return-Path.\n\n"+
			"Exit codes (sysexits.h): 0 delivered, 64 usage, 67 unknown user or bad address,\n"+
			"68 domain not hosted, 69 refused for good (too big), 73 mailbox full,\n"+
			"75 temporary failure (the MTA tries again; also a full mailbox with\n"+
			"lmtp.quota_full_tempfail).")
	rcpt := fs.String("r", "", "recipient `ADDRESS` (user@domain, user+detail@domain)")
	from := fs.String("f", "", "envelope sender `ADDRESS`; \"\" or <> is the null sender")
	mailbox := fs.String("m", "", "deliver into `MAILBOX` instead of INBOX (INBOX if it does not exist)")
	err := parse(fs, args)
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case errors.As(err, &ue):
		return exitWith(lmtp.ExitUsage, ue.msg)
	case fs.NArg() != 0:
		return exitWith(lmtp.ExitUsage, "deliver takes no arguments")
	case *rcpt == "":
		return exitWith(lmtp.ExitUsage, "deliver needs -r RECIPIENT")
	}
	fromSet := false
	fs.Visit(func(f *flag.Flag) { fromSet = fromSet || f.Name == "f" })
	code, msg := deliverStdin(ctx, *cfgPath, deliverRequest{
		rcpt: *rcpt, from: strings.Trim(*from, "<>"), fromSet: fromSet, mailbox: *mailbox,
	}, os.Stdin)
	if code != lmtp.ExitOK {
		return exitWith(code, msg)
	}
	return nil
}

// exitWith ends `letterbox deliver` with a sysexits code, which the MTA
// reads: main's exit codes (1, 2) would mean nothing to it.
func exitWith(code int, msg string) error {
	fmt.Fprintf(os.Stderr, "letterbox deliver: %s\n", msg)
	os.Exit(code)
	return nil
}

type deliverRequest struct {
	rcpt, from, mailbox string
	fromSet             bool
}

// deliverStdin delivers the message on r and returns the exit code and,
// on failure, the reply that explains it.
func deliverStdin(ctx context.Context, cfgPath string, req deliverRequest, r io.Reader) (int, string) {
	c, err := loadConfig(cfgPath)
	if err != nil {
		return lmtp.ExitTempFail, err.Error() // a broken config must not bounce mail
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := storage.Open(ctx, storeOptions(c, log))
	if err != nil {
		return lmtp.ExitTempFail, err.Error()
	}
	defer s.Close()
	opts, err := lmtpOptions(c, log)
	if err != nil {
		return lmtp.ExitTempFail, err.Error()
	}
	d := lmtp.NewDeliverer(s, opts)

	br := bufio.NewReader(r)
	env := &lmtp.Envelope{ID: lmtp.NewID(), From: req.from, UnknownSender: !req.fromSet}
	// An mbox postmark ("From sender date") is not part of the message
	// (RFC 4155); it names the sender.
	if line, err := br.Peek(5); err == nil && string(line) == "From " {
		postmark, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return lmtp.ExitTempFail, "read message: " + err.Error()
		}
		if f := strings.Fields(postmark); !req.fromSet && len(f) >= 2 {
			env.From, env.UnknownSender = f[1], false
			if strings.EqualFold(env.From, "MAILER-DAEMON") {
				env.From = ""
			}
		}
	}
	if rep := lmtp.CheckSender(env.From); rep != nil {
		env.From, env.UnknownSender = "", true // an unusable postmark is not worth a bounce
		if req.fromSet {
			return lmtp.ExitUsage, replyText(rep)
		}
	}
	rc, rep := d.Resolve(ctx, req.rcpt, 0)
	if rep != nil {
		return lmtp.ExitCode(rep), replyText(rep)
	}
	rc.Mailbox = req.mailbox
	env.Recipients = []*lmtp.Recipient{rc}
	res := d.Deliver(ctx, env, br)[0]
	if code := lmtp.ExitCode(res.Reply); code != lmtp.ExitOK {
		return code, replyText(res.Reply)
	}
	return lmtp.ExitOK, ""
}

func replyText(r *smtp.SMTPError) string {
	e := r.EnhancedCode
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, e[0], e[1], e[2], r.Message)
}
