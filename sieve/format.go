package sieve

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// This file prints a Result the way Pigeonhole's sieve-test prints the
// result of a dry run, so that `letterbox sieve test` and sieve-test can be
// compared line by line (see testdata/sieve/diff).

// FormatResult writes r in sieve-test's format: a "Performed actions:"
// section listing the explicit actions and their side effects, then an
// "Implicit keep:" section, with INBOX as the default mailbox.
func FormatResult(w io.Writer, r *Result) {
	FormatResultWithDefault(w, r, "INBOX")
}

// FormatResultWithDefault is FormatResult for a delivery whose default
// mailbox (keep, implicit keep) is defaultMailbox, as sieve-test -m.
func FormatResultWithDefault(w io.Writer, r *Result, defaultMailbox string) {
	var b strings.Builder
	if r.Err != nil {
		fmt.Fprintf(&b, "\nScript failed: %s\n", sanitize(r.Err.Error(), 1024))
		io.WriteString(w, b.String())
		return
	}
	b.WriteString("\nPerformed actions:\n\n")
	n := 0
	for _, t := range r.Track {
		if t.Kind == "duplicate" {
			b.WriteString(" * track duplicate\n")
			n++
		}
	}
	for _, a := range r.Actions {
		writeAction(&b, a, defaultMailbox)
		n++
	}
	if n == 0 {
		b.WriteString("  (none)\n")
	}
	b.WriteString("\nImplicit keep:\n\n")
	if r.ImplicitKeep {
		writeAction(&b, &Keep{Flags: r.ImplicitKeepFlags}, defaultMailbox)
	} else {
		b.WriteString("  (none)\n")
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}

// writeAction writes one " * " line and the lines under it.
func writeAction(b *strings.Builder, a Action, defaultMailbox string) {
	switch a := a.(type) {
	case *Keep:
		b.WriteString(" * " + storeLine(defaultMailbox) + "\n")
		writeFlags(b, a.Flags)
	case *FileInto:
		b.WriteString(" * " + a.String() + "\n")
		if a.SpecialUse != "" {
			fmt.Fprintf(b, "        + use mailbox with special-use flag `%s' instead if accessible\n", a.SpecialUse)
		}
		if a.Create {
			b.WriteString("        + create mailbox if it does not exist\n")
		}
		if a.Copy {
			b.WriteString("        + preserve implicit keep\n")
		}
		writeFlags(b, a.Flags)
	case *Redirect:
		b.WriteString(" * " + a.String() + "\n")
		if a.Copy {
			b.WriteString("        + preserve implicit keep\n")
		}
	case *Vacation:
		b.WriteString(" * " + a.String() + "\n")
		fmt.Fprintf(b, "    => seconds : %d\n", int64(a.Period.Seconds()))
		if a.Handle != "" {
			fmt.Fprintf(b, "    => handle  : %s\n", a.Handle)
		}
		fmt.Fprintf(b, "\nSTART MESSAGE\n%s\nEND MESSAGE\n", vacationText(a.Reply))
	case nil:
	default:
		b.WriteString(" * " + a.String() + "\n")
	}
}

func writeFlags(b *strings.Builder, flags []string) {
	if len(flags) == 0 {
		return
	}
	b.WriteString("        + add IMAP flags: " + strings.Join(printOrder(flags), " ") + "\n")
}

// systemFlags in the order sieve-test prints them (Dovecot's flag bits).
var systemFlags = []string{`\answered`, `\flagged`, `\deleted`, `\seen`, `\draft`}

// printOrder orders flags as sieve-test prints them: the system flags
// first, in lower case and in a fixed order, then the keywords as given.
// Nothing is dropped or merged here: what the Result holds is shown.
func printOrder(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, sf := range systemFlags {
		for _, f := range flags {
			if strings.EqualFold(f, sf) {
				out = append(out, sf)
			}
		}
	}
	for _, f := range flags {
		system := false
		for _, sf := range systemFlags {
			if strings.EqualFold(f, sf) {
				system = true
				break
			}
		}
		if !system {
			out = append(out, f)
		}
	}
	return out
}

// vacationText is the text of a composed reply as sieve-test shows the
// reason: the body after the header, without the final line break.
func vacationText(reply []byte) string {
	body := reply
	if i := bytes.Index(reply, []byte("\r\n\r\n")); i >= 0 {
		body = reply[i+4:]
	} else if i := bytes.Index(reply, []byte("\n\n")); i >= 0 {
		body = reply[i+2:]
	}
	s := string(body)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s
}

func storeLine(mailbox string) string {
	return "store message in folder: " + sanitize(mailbox, 128)
}

// String describes the action as sieve-test's " * " line does.
func (k *Keep) String() string { return storeLine("INBOX") }

// String describes the action as sieve-test's " * " line does.
func (f *FileInto) String() string { return storeLine(f.Mailbox) }

// String describes the action as sieve-test's " * " line does.
func (r *Redirect) String() string { return "redirect message to: <" + r.Address + ">" }

// String describes the action as sieve-test's " * " line does.
func (*Discard) String() string { return "discard" }

// String describes the action as sieve-test's " * " line does. The
// reason is shown sanitized and shortened to 128 bytes.
func (r *Reject) String() string { return "reject message with reason: " + sanitize(r.Reason, 128) }

// String describes the action as sieve-test's " * " line does.
func (v *Vacation) String() string { return "send vacation message:" }

// sanitize makes s printable on one line the way Dovecot does for log and
// result lines: every control character and every byte that is not part
// of valid UTF-8 becomes '?', and a string longer than max bytes is cut
// on a character boundary to at most max-3 bytes followed by "...".
func sanitize(s string, max int) string {
	var b strings.Builder
	i := 0
	for i < len(s) && i < max {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteByte('?')
			size = 1
		case i+size > max:
			// A character that does not fit counts as the end.
			i = max
			continue
		case r < 0x20:
			b.WriteByte('?')
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if i >= len(s) {
		return b.String()
	}
	out := b.String()
	if max < 3 {
		return "..."
	}
	for len(out) > max-3 {
		_, size := utf8.DecodeLastRuneInString(out)
		out = out[:len(out)-size]
	}
	return out + "..."
}
