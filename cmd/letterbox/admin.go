package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"letterbox/auth"
	"letterbox/config"
	"letterbox/storage"
)

// subcommand picks the verb of "letterbox NOUN VERB ...".
func subcommand(noun string, args []string, verbs map[string]func(context.Context, []string) error, ctx context.Context) error {
	if len(args) == 0 {
		return usagef("%s needs one of: %s", noun, verbList(verbs))
	}
	f, ok := verbs[args[0]]
	if !ok {
		return usagef("%s: unknown action %q; one of: %s", noun, args[0], verbList(verbs))
	}
	return f(ctx, args[1:])
}

func verbList(verbs map[string]func(context.Context, []string) error) string {
	var out []string
	for _, v := range []string{"add", "list", "del", "passwd", "quota", "create", "delete", "check"} {
		if verbs[v] != nil {
			out = append(out, v)
		}
	}
	return strings.Join(out, ", ")
}

func runDomain(ctx context.Context, args []string) error {
	return subcommand("domain", args, map[string]func(context.Context, []string) error{
		"add": func(ctx context.Context, args []string) error {
			return storeVerb{"domain add", "DOMAIN", "Starts hosting a domain (SQLite: creates its database file).", 1, 1, nil}.run(ctx, args,
				func(s *storage.Store, _ *config.Config, args []string) error {
					return s.AddDomain(ctx, strings.ToLower(args[0]))
				})
		},
		"list": func(ctx context.Context, args []string) error {
			return storeVerb{name: "domain list"}.run(ctx, args, func(s *storage.Store, _ *config.Config, _ []string) error {
				ds, err := s.Domains(ctx)
				for _, d := range ds {
					fmt.Println(d)
				}
				return err
			})
		},
		"del": func(ctx context.Context, args []string) error {
			var yes bool
			return storeVerb{"domain del", "DOMAIN", "Deletes a domain with every account and message in it.", 1, 1, yesFlag(&yes)}.run(ctx, args,
				func(s *storage.Store, _ *config.Config, args []string) error {
					domain := strings.ToLower(args[0])
					accts, err := s.Accounts(ctx, domain)
					if err != nil {
						return err
					}
					if !yes {
						if err := confirm(fmt.Sprintf("This deletes domain %s with its %d accounts and all their mail.", domain, len(accts)), domain); err != nil {
							return err
						}
					}
					return s.DeleteDomain(ctx, domain)
				})
		},
	}, ctx)
}

// yesFlag adds -yes, which skips the confirmation of a deletion.
func yesFlag(yes *bool) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) { fs.BoolVar(yes, "yes", false, "do not ask for confirmation") }
}

func runUser(ctx context.Context, args []string) error {
	return subcommand("user", args, map[string]func(context.Context, []string) error{
		"add": func(ctx context.Context, args []string) error {
			var quota string
			return storeVerb{"user add", "USER@DOMAIN",
				"Adds a user with INBOX, Drafts, Sent, Trash, Junk and Archive. The password is asked\n" +
					"on the terminal, or read as the first line of standard input.", 1, 1,
				func(fs *flag.FlagSet) {
					fs.StringVar(&quota, "quota", "", "storage limit, e.g. 500M, 2G (default: quota.default of the config; 0: unlimited)")
				}}.run(ctx, args, func(s *storage.Store, c *config.Config, args []string) error {
				limit := c.Quota.Default
				if quota != "" {
					var err error
					if limit, err = parseSize(quota); err != nil {
						return usagef("-quota: %v", err)
					}
				}
				hash, err := askPasswordHash("password for " + args[0])
				if err != nil {
					return err
				}
				_, err = s.CreateAccount(ctx, args[0], hash, limit)
				return err
			})
		},
		"list": func(ctx context.Context, args []string) error {
			return storeVerb{"user list", "[DOMAIN]", "Lists the users of one domain, or of every domain.", 0, 1, nil}.run(ctx, args,
				func(s *storage.Store, _ *config.Config, domains []string) error {
					if len(domains) == 0 {
						var err error
						if domains, err = s.Domains(ctx); err != nil {
							return err
						}
					}
					w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
					fmt.Fprintln(w, "USER\tUSED\tQUOTA")
					for _, d := range domains {
						accts, err := s.Accounts(ctx, strings.ToLower(d))
						if err != nil {
							return err
						}
						for _, a := range accts {
							fmt.Fprintf(w, "%s\t%s\t%s\n", a.Name, formatSize(a.UsedBytes), formatQuota(a.QuotaBytes))
						}
					}
					return w.Flush()
				})
		},
		"del": func(ctx context.Context, args []string) error {
			var yes bool
			return storeVerb{"user del", "USER@DOMAIN", "Deletes a user with all of its mail and Sieve scripts.", 1, 1, yesFlag(&yes)}.runAccount(ctx, args,
				func(s *storage.Store, _ *config.Config, a *storage.Account, _ []string) error {
					if !yes {
						if err := confirm(fmt.Sprintf("This deletes %s and its %s of mail.", a.Name, formatSize(a.UsedBytes)), a.Name); err != nil {
							return err
						}
					}
					return s.DeleteAccount(ctx, a.Name)
				})
		},
		"passwd": func(ctx context.Context, args []string) error {
			return storeVerb{"user passwd", "USER@DOMAIN",
				"Sets a user's password: asked on the terminal, or the first line of standard input.", 1, 1, nil}.runAccount(ctx, args,
				func(s *storage.Store, _ *config.Config, a *storage.Account, _ []string) error {
					hash, err := askPasswordHash("new password for " + a.Name)
					if err != nil {
						return err
					}
					return s.SetPassword(ctx, a.Name, hash)
				})
		},
		"quota": func(ctx context.Context, args []string) error {
			return storeVerb{"user quota", "USER@DOMAIN [SIZE]",
				"Shows a user's usage and limit, or sets the limit (e.g. 500M, 2G; 0 for unlimited).", 1, 2, nil}.runAccount(ctx, args,
				func(s *storage.Store, _ *config.Config, a *storage.Account, size []string) error {
					if len(size) == 1 {
						limit, err := parseSize(size[0])
						if err != nil {
							return usagef("%v", err)
						}
						return s.SetQuota(ctx, a.Name, limit)
					}
					q, err := s.Quota(ctx, a)
					if err != nil {
						return err
					}
					fmt.Printf("%s: %s used of %s, %d messages\n", a.Name, formatSize(q.UsedBytes), formatQuota(q.LimitBytes), q.Messages)
					return nil
				})
		},
	}, ctx)
}

// askPasswordHash reads a new password (see readPassword) and hashes it.
func askPasswordHash(prompt string) (string, error) {
	pw, err := readPassword(prompt)
	if err != nil {
		return "", err
	}
	return auth.HashPassword(pw)
}

func runMailbox(ctx context.Context, args []string) error {
	withAccount := func(name, argsHelp, help string, n int, f func(ctx context.Context, s *storage.Store, a *storage.Account, args []string) error) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			special := ""
			addFlags := func(fs *flag.FlagSet) {
				if name == "mailbox create" {
					fs.StringVar(&special, "special-use", "", `special-use attribute (RFC 6154): \Archive, \Drafts, \Junk, \Sent, \Trash, \All or \Flagged`)
				}
			}
			return storeVerb{name, argsHelp, help, n, n, addFlags}.runAccount(ctx, args,
				func(s *storage.Store, _ *config.Config, a *storage.Account, rest []string) error {
					if special != "" {
						rest = append(rest, special)
					}
					return f(ctx, s, a, rest)
				})
		}
	}
	return subcommand("mailbox", args, map[string]func(context.Context, []string) error{
		"list": withAccount("mailbox list", "USER@DOMAIN", "Lists a user's mailboxes with their counters.", 1,
			func(ctx context.Context, s *storage.Store, a *storage.Account, _ []string) error {
				boxes, err := s.ListMailboxes(ctx, a, "*")
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
				fmt.Fprintln(w, "MAILBOX\tSPECIAL-USE\tMESSAGES\tUNSEEN\tSIZE\tUIDVALIDITY\tUIDNEXT")
				for _, m := range boxes {
					fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%d\t%d\n", m.Name, m.SpecialUse, m.Messages, m.Unseen, formatSize(m.Size), m.UIDValidity, m.UIDNext)
				}
				return w.Flush()
			}),
		"create": withAccount("mailbox create", "USER@DOMAIN MAILBOX", "Creates a mailbox and its missing parents ('/' separates levels).", 2,
			func(ctx context.Context, s *storage.Store, a *storage.Account, args []string) error {
				special := ""
				if len(args) > 1 {
					special = args[1]
				}
				_, err := s.CreateMailbox(ctx, a, args[0], special)
				return err
			}),
		"delete": withAccount("mailbox delete", "USER@DOMAIN MAILBOX", "Deletes a mailbox and its messages (not INBOX, not one with children).", 2,
			func(ctx context.Context, s *storage.Store, a *storage.Account, args []string) error {
				return s.DeleteMailbox(ctx, a, args[0])
			}),
	}, ctx)
}

// storeVerb is an admin command that works on the store: its name, the
// arguments it takes (for the usage line), what it does, how many
// arguments it accepts, and its own flags (flags may be nil).
type storeVerb struct {
	name, argsHelp, help string
	minArgs, maxArgs     int
	flags                func(*flag.FlagSet)
}

// run parses the flags, checks the number of arguments, opens the store
// and calls f with the arguments.
func (v storeVerb) run(ctx context.Context, args []string, f func(s *storage.Store, c *config.Config, args []string) error) error {
	fs, cfg := flagSet(v.name, v.argsHelp, v.help)
	if v.flags != nil {
		v.flags(fs)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if n := fs.NArg(); n < v.minArgs || n > v.maxArgs {
		if v.maxArgs == 0 {
			return usagef("%s takes no arguments", v.name)
		}
		return usagef("%s takes %s", v.name, v.argsHelp)
	}
	s, c, err := openStore(ctx, *cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return f(s, c, fs.Args())
}

// runAccount is run for a command whose first argument names an account:
// f gets the account and the arguments after it.
func (v storeVerb) runAccount(ctx context.Context, args []string, f func(s *storage.Store, c *config.Config, a *storage.Account, rest []string) error) error {
	return v.run(ctx, args, func(s *storage.Store, c *config.Config, args []string) error {
		a, err := s.Account(ctx, args[0])
		if err != nil {
			return err
		}
		return f(s, c, a, args[1:])
	})
}

func runMigrate(ctx context.Context, args []string) error {
	return storeVerb{name: "migrate", help: "Applies the schema migrations this binary knows to every database."}.run(ctx, args,
		func(s *storage.Store, _ *config.Config, _ []string) error {
			n, err := s.Migrate(ctx)
			if err != nil {
				return err
			}
			fmt.Printf("%d database(s) at schema version %d\n", n, storage.SchemaVersion())
			return nil
		})
}

func runFsck(ctx context.Context, args []string) error {
	return storeVerb{name: "fsck", help: "Recomputes mailbox counters, account usage and blob reference counts, and checks that every message's content is there."}.run(ctx, args,
		func(s *storage.Store, _ *config.Config, _ []string) error {
			rep, err := s.Fsck(ctx)
			if err != nil {
				return err
			}
			fmt.Printf("%d database(s) checked; fixed %d mailbox counters, %d account usages, %d blob reference counts\n",
				rep.Databases, rep.Mailboxes, rep.Accounts, rep.Blobs)
			if rep.Missing > 0 {
				return fmt.Errorf("the content of %d message blob(s) is gone, first %s: restore it from a backup", rep.Missing, rep.FirstMissing)
			}
			return nil
		})
}

func runConfig(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return usagef("config needs: check")
	}
	fs, cfg := flagSet("config check", "", "Loads and validates the configuration, then prints the effective values.")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("config check takes no arguments")
	}
	c, err := loadConfig(*cfg)
	if err != nil {
		return err
	}
	return c.WriteTOML(os.Stdout)
}

// parseSize reads sizes such as 1048576, 500K, 500M, 2G, 1T (powers of 1024).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	mult := int64(1)
	for suffix, m := range map[string]int64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40} {
		if strings.HasSuffix(s, suffix) || strings.HasSuffix(s, suffix+"B") {
			s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), suffix)
			mult = m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with K, M, G or T", s)
	}
	return n * mult, nil
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d", n)
}

func formatQuota(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return formatSize(n)
}
