// Command letterbox is the Letterbox mailbox server and its admin tool.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// usageError makes the command print its usage and exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server", runServe},
		{"domain", "add, list or delete hosted domains", runDomain},
		{"user", "add, list, delete users; set passwords and quotas", runUser},
		{"mailbox", "list, create or delete a user's mailboxes", runMailbox},
		{"migrate", "bring the database schema up to date", runMigrate},
		{"fsck", "recompute counters and reference counts; check that every message's content is there", runFsck},
		{"deliver", "deliver one message from standard input (for MTAs that pipe)", runDeliver},
		{"sieve", "check and test Sieve scripts; list, get, put, activate, delete a user's scripts", runSieve},
		{"bench", "load generators for IMAP, POP3 and LMTP servers", runBench},
		{"config", "check the configuration and print it", runConfig},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: letterbox COMMAND [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'letterbox COMMAND -h' for a command's flags.")
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(os.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:])
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(os.Stderr, "letterbox %s: %s\n\n", c.name, ue.msg)
			printUsage()
			return 2
		default:
			fmt.Fprintf(os.Stderr, "letterbox %s: %s\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(os.Stderr, "letterbox: unknown command %q\n\n", args[0])
	usage(os.Stderr)
	return 2
}

func runVersion(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Println("letterbox", version)
	return nil
}
