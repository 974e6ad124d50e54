package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"letterbox/config"
	"letterbox/storage"
)

// flagSet makes a FlagSet whose usage names the command and its arguments,
// with the -config flag every command shares.
func flagSet(name, args, help string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	cfg := fs.String("config", "", "config `FILE` (default: none: built-in defaults)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: letterbox %s [flags] %s\n", name, args)
		if help != "" {
			fmt.Fprintf(fs.Output(), "\n%s\n", help)
		}
		fmt.Fprintln(fs.Output(), "\nflags:")
		fs.PrintDefaults()
	}
	return fs, cfg
}

// printUsage prints the usage of the command being run, after a usage error.
var printUsage = func() {}

// parse parses flags, which may come before, between or after the
// arguments; a bad flag is a usage error. Arguments are left in fs.Args().
func parse(fs *flag.FlagSet, args []string) error {
	printUsage = fs.Usage
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			positional = append(positional, args[1:]...)
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	fs.Parse(append([]string{"--"}, positional...))
	return nil
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

func storeOptions(c *config.Config, log *slog.Logger) storage.Options {
	return storage.Options{
		Backend:         c.Storage.Backend,
		DataDir:         c.DataDir,
		PostgresURL:     c.Storage.PostgresURL,
		BlobBackend:     c.Storage.BlobBackend,
		Compression:     c.Storage.Compression,
		BlobFileMinSize: c.Storage.BlobFileMinSize,
		MaxOpenDomains:  c.Storage.MaxOpenDomains,
		IdleClose:       c.Storage.IdleClose.Std(),
		BlobGrace:       c.Storage.BlobGrace.Std(),
		VanishedKeep:    c.Storage.VanishedKeep.Std(),
		MaxMessageSize:  c.Limits.MaxMessageSize,
		Logger:          log,
	}
}

// openStore loads the config and opens the storage it names.
func openStore(ctx context.Context, cfgPath string) (*storage.Store, *config.Config, error) {
	c, err := loadConfig(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	s, err := storage.Open(ctx, storeOptions(c, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return nil, nil, err
	}
	return s, c, nil
}

// readPassword asks on the terminal (twice, to catch typos), or reads the
// first line of standard input when it is not a terminal. Passwords never
// come from the command line, where other users can see them.
func readPassword(prompt string) (string, error) {
	fd := int(os.Stdin.Fd())
	if term.IsTerminal(fd) {
		fmt.Fprint(os.Stderr, prompt+": ")
		p1, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(os.Stderr, "again: ")
		p2, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", fmt.Errorf("the passwords differ")
		}
		return checkPassword(string(p1))
	}
	line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	return checkPassword(strings.TrimRight(line, "\r\n"))
}

func checkPassword(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty password")
	}
	if strings.ContainsAny(p, "\x00") {
		return "", fmt.Errorf("password contains a NUL byte")
	}
	return p, nil
}

// confirm asks the user to type want; without a terminal it refuses.
func confirm(question, want string) error {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return fmt.Errorf("refusing without confirmation: run it on a terminal, or pass -yes")
	}
	fmt.Fprintf(os.Stderr, "%s\nType %q to confirm: ", question, want)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if strings.TrimSpace(line) != want {
		return fmt.Errorf("not confirmed; nothing deleted")
	}
	return nil
}
