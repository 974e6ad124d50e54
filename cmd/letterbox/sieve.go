package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"letterbox/config"
	"letterbox/sieve"
	"letterbox/storage"
)

// sieveVerbs are the actions of "letterbox sieve", in the order usage
// lists them.
var sieveVerbs = []string{"check", "test", "list", "get", "put", "activate", "deactivate", "delete"}

func runSieve(ctx context.Context, args []string) error {
	verbs := map[string]func(context.Context, []string) error{
		"check":      runSieveCheck,
		"test":       runSieveTest,
		"list":       runSieveList,
		"get":        runSieveGet,
		"put":        runSievePut,
		"activate":   runSieveActivate,
		"deactivate": runSieveDeactivate,
		"delete":     runSieveDelete,
	}
	if len(args) == 0 {
		return usagef("sieve needs one of: %s", strings.Join(sieveVerbs, ", "))
	}
	f, ok := verbs[args[0]]
	if !ok {
		return usagef("sieve: unknown action %q; one of: %s", args[0], strings.Join(sieveVerbs, ", "))
	}
	return f(ctx, args[1:])
}

// errCompile is returned after compile errors were printed.
var errCompile = errors.New("script does not compile")

// dirLoader resolves include: personal scripts beside the including
// script (NAME.sieve), global ones in a directory given by -global.
type dirLoader struct {
	personal, global string
	opts             *sieve.Options
}

func (l *dirLoader) LoadScript(location, name string) (*sieve.Script, error) {
	dir := l.personal
	if location == "global" {
		dir = l.global
	}
	if dir == "" {
		return nil, fmt.Errorf("no %s script directory", location)
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("invalid script name %q", name)
	}
	src, err := os.ReadFile(filepath.Join(dir, name+".sieve"))
	if err != nil {
		return nil, err
	}
	return sieve.Compile(name, src, l.opts)
}

// extensionFlag applies "-x '+ext -ext'" as sieve-test does: -ext stops
// offering an extension, +ext offers it again.
func extensionFlag(opts *sieve.Options, spec string) error {
	for _, f := range strings.Fields(spec) {
		switch {
		case strings.HasPrefix(f, "-"):
			opts.Disabled = append(opts.Disabled, f[1:])
		case strings.HasPrefix(f, "+"):
			name := f[1:]
			kept := opts.Disabled[:0]
			for _, d := range opts.Disabled {
				if !strings.EqualFold(d, name) {
					kept = append(kept, d)
				}
			}
			opts.Disabled = kept
		default:
			return usagef("-x: %q: write +EXTENSION or -EXTENSION", f)
		}
	}
	return nil
}

func runSieveCheck(ctx context.Context, args []string) error {
	fs, _ := flagSet("sieve check", "FILE...",
		"Compiles Sieve scripts and prints every error as FILE:LINE:COLUMN: message.\n"+
			"Exits 1 when a script does not compile.")
	global := fs.String("global", "", "`DIR` of global scripts for include :global")
	exts := fs.String("x", "", "extensions to take away or add back, e.g. \"-vacation +editheader\"")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("sieve check takes one or more FILEs")
	}
	failed := 0
	for _, path := range fs.Args() {
		opts := &sieve.Options{}
		if err := extensionFlag(opts, *exts); err != nil {
			return err
		}
		opts.Includes = &dirLoader{personal: filepath.Dir(path), global: *global, opts: opts}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := sieve.Compile(path, src, opts); err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed++
		}
	}
	if failed > 0 {
		return errCompile
	}
	return nil
}

func runSieveTest(ctx context.Context, args []string) error {
	fs, _ := flagSet("sieve test", "SCRIPT MESSAGE",
		"Runs a script on a message and prints what it decided, in the format of Pigeonhole's\n"+
			"sieve-test. Nothing is delivered or sent. The message is read as it would arrive\n"+
			"over LMTP (line ends become CRLF).")
	execute := fs.Bool("e", false, "also print the messages that would be sent (vacation replies)")
	from := fs.String("f", "sender@example.com", "envelope `SENDER` (\"<>\" or \"\": the null sender)")
	rcpt := fs.String("r", "recipient@example.com", "envelope `RECIPIENT`")
	orig := fs.String("a", "", "original envelope `RECIPIENT` (default: the -r address)")
	mailbox := fs.String("m", "INBOX", "default `MAILBOX` of keep and the implicit keep")
	global := fs.String("global", "", "`DIR` of global scripts for include :global")
	exts := fs.String("x", "", "extensions to take away or add back, e.g. \"-vacation +editheader\"")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("sieve test takes SCRIPT and MESSAGE")
	}
	scriptPath, msgPath := fs.Arg(0), fs.Arg(1)
	opts := &sieve.Options{}
	if err := extensionFlag(opts, *exts); err != nil {
		return err
	}
	opts.Includes = &dirLoader{personal: filepath.Dir(scriptPath), global: *global, opts: opts}
	src, err := os.ReadFile(scriptPath)
	if err != nil {
		return err
	}
	script, err := sieve.Compile(scriptPath, src, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return errCompile
	}
	raw, err := os.ReadFile(msgPath)
	if err != nil {
		return err
	}
	msg, err := sieve.ParseMessage(toCRLF(raw))
	if err != nil {
		return fmt.Errorf("message %s: %w", msgPath, err)
	}
	sender := *from
	if sender == "<>" {
		sender = ""
	}
	sender = strings.TrimSuffix(strings.TrimPrefix(sender, "<"), ">")
	res := script.Run(ctx, &sieve.Input{
		Message:  msg,
		Envelope: sieve.Envelope{From: sender, To: *rcpt, OrigTo: *orig},
		Now:      time.Now(),
	})
	if res.Err != nil {
		return fmt.Errorf("run failed (the message would be kept in %s): %w", *mailbox, res.Err)
	}
	sieve.FormatResultWithDefault(os.Stdout, res, *mailbox)
	if *execute {
		writeSent(os.Stdout, res)
	}
	return nil
}

// writeSent prints the messages a result would send.
func writeSent(w io.Writer, res *sieve.Result) {
	for _, a := range res.Actions {
		v, ok := a.(*sieve.Vacation)
		if !ok {
			continue
		}
		from := v.From
		if from == "" {
			from = "<>"
		}
		fmt.Fprintf(w, "Vacation reply from %s to %s:\n", from, v.To)
		fmt.Fprintln(w, "START MESSAGE")
		w.Write(bytes.ReplaceAll(v.Reply, []byte("\r\n"), []byte("\n")))
		if !bytes.HasSuffix(v.Reply, []byte("\n")) {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "END MESSAGE")
		fmt.Fprintln(w)
	}
}

// toCRLF gives a message file the line ends of a message that arrived
// over SMTP/LMTP.
func toCRLF(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

func runSieveList(ctx context.Context, args []string) error {
	return storeVerb{"sieve list", "USER@DOMAIN", "Lists a user's Sieve scripts; the active one is marked ACTIVE.", 1, 1, nil}.runAccount(ctx, args,
		func(s *storage.Store, _ *config.Config, a *storage.Account, _ []string) error {
			scripts, err := s.SieveScripts(ctx, a)
			if err != nil {
				return err
			}
			sort.Slice(scripts, func(i, j int) bool { return scripts[i].Name < scripts[j].Name })
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(w, "SCRIPT\tACTIVE\tUPDATED")
			for _, sc := range scripts {
				active := ""
				if sc.Active {
					active = "ACTIVE"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", sc.Name, active, sc.Updated.UTC().Format(time.RFC3339))
			}
			return w.Flush()
		})
}

func runSieveGet(ctx context.Context, args []string) error {
	return storeVerb{"sieve get", "USER@DOMAIN NAME", "Prints one of a user's Sieve scripts.", 2, 2, nil}.runAccount(ctx, args,
		func(s *storage.Store, _ *config.Config, a *storage.Account, rest []string) error {
			sc, err := s.SieveScript(ctx, a, rest[0])
			if err != nil {
				return err
			}
			_, err = io.WriteString(os.Stdout, sc.Content)
			return err
		})
}

func runSievePut(ctx context.Context, args []string) error {
	return storeVerb{"sieve put", "USER@DOMAIN NAME FILE", "Stores a Sieve script under NAME (replacing a script of that name), read from FILE or,\n" +
		"with FILE \"-\", from standard input. A script that does not compile is refused.", 3, 3, nil}.runAccount(ctx, args,
		func(s *storage.Store, c *config.Config, a *storage.Account, rest []string) error {
			name, path := rest[0], rest[1]
			var src []byte
			var err error
			if path == "-" {
				src, err = io.ReadAll(os.Stdin)
			} else {
				src, err = os.ReadFile(path)
			}
			if err != nil {
				return err
			}
			if _, err := sieve.Compile(name, src, uploadOptions(c)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return fmt.Errorf("script %q refused: %w", name, errCompile)
			}
			return s.PutSieveScript(ctx, a, name, string(src))
		})
}

func runSieveActivate(ctx context.Context, args []string) error {
	return storeVerb{"sieve activate", "USER@DOMAIN NAME", "Makes NAME the user's active Sieve script.", 2, 2, nil}.runAccount(ctx, args,
		func(s *storage.Store, _ *config.Config, a *storage.Account, rest []string) error {
			return s.ActivateSieveScript(ctx, a, rest[0])
		})
}

func runSieveDeactivate(ctx context.Context, args []string) error {
	return storeVerb{"sieve deactivate", "USER@DOMAIN", "Leaves the user with no active Sieve script.", 1, 1, nil}.runAccount(ctx, args,
		func(s *storage.Store, _ *config.Config, a *storage.Account, _ []string) error {
			return s.ActivateSieveScript(ctx, a, "")
		})
}

func runSieveDelete(ctx context.Context, args []string) error {
	return storeVerb{"sieve delete", "USER@DOMAIN NAME", "Deletes one of a user's Sieve scripts (not the active one).", 2, 2, nil}.runAccount(ctx, args,
		func(s *storage.Store, _ *config.Config, a *storage.Account, rest []string) error {
			return s.DeleteSieveScript(ctx, a, rest[0])
		})
}
