package imaptest

import (
	"fmt"
	"strconv"
	"strings"
)

// vars holds a script's variables and the state the $-expansions need. It
// belongs to one running script.
type vars struct {
	m     map[string]string
	added []string // variables bound since the last reset (undone on mismatch)
	// seqmap maps a message's sequence number at the start of the current
	// group to its sequence number now (0 once expunged): "$3" in a reply
	// means "the message that was number 3".
	seqmap []uint32
	// the highest $modseqN seen so far and its value
	modseqIdx uint64
	modseqVal uint64
}

func newVars() *vars {
	return &vars{m: map[string]string{}}
}

func isVarChar(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// asciiEqualFold compares like C's strcasecmp: ASCII letters fold, nothing
// else does.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if upper(a[i]) != upper(b[i]) {
			return false
		}
	}
	return true
}

// cstr cuts s at its first NUL. imaptest compares replies as C strings, so a
// literal holding a NUL is compared up to it; doing the same keeps the
// verdicts equal (append-binary relies on it).
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// uint32Str parses like Dovecot's str_to_uint32: decimal digits only.
func uint32Str(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return n, err == nil
}

func (v *vars) relativeSeq(seq uint64) string {
	switch {
	case seq == 0:
		return "<zero seq>"
	case seq > uint64(len(v.seqmap)):
		return "<out of range>"
	case v.seqmap[seq-1] == 0:
		return "<expunged>"
	}
	return strconv.FormatUint(uint64(v.seqmap[seq-1]), 10)
}

// expunge updates the sequence map for an EXPUNGE of seq.
func (v *vars) expunge(seq uint32) {
	if seq == 0 || int(seq) > len(v.seqmap) {
		// Numbers beyond the group's initial count may follow an EXISTS.
		return
	}
	for i := int(seq) - 1; i < len(v.seqmap); i++ {
		if v.seqmap[i] >= seq {
			if v.seqmap[i] == seq {
				v.seqmap[i] = 0
			} else {
				v.seqmap[i]--
			}
		}
	}
}

func (v *vars) revertAdded() {
	for _, k := range v.added {
		delete(v.m, k)
	}
	v.added = v.added[:0]
}

// expandCommand replaces the variables in a command line (or in a pattern,
// for messages): "$$" is a "$", "$name" and "${name}" a variable, "$N" the
// current number of the group's message N, and "$!…" directives vanish. An
// unset variable is an error unless keepUnset, which leaves "$" in its place.
func (v *vars) expandCommand(line []byte, keepUnset bool) ([]byte, error) {
	if !strings.ContainsRune(string(line), '$') {
		return line, nil
	}
	out := make([]byte, 0, len(line)+32)
	for i := 0; i < len(line); {
		c := line[i]
		if c != '$' || i == len(line)-1 {
			out = append(out, c)
			i++
			continue
		}
		i++
		switch line[i] {
		case '$':
			out = append(out, '$')
			i++
		case '!':
			for i+1 < len(line) && line[i+1] != ' ' {
				i++
			}
			i++
		default:
			var name string
			if line[i] == '{' {
				end := strings.IndexByte(string(line[i+1:]), '}')
				if end < 0 {
					return out, fmt.Errorf("missing '}'")
				}
				name = string(line[i+1 : i+1+end])
				i += end + 2
			} else {
				j := i
				for j < len(line) && isVarChar(line[j]) {
					j++
				}
				name = string(line[i:j])
				i = j
			}
			var value string
			if seq, ok := uint32Str(name); ok {
				value = v.relativeSeq(seq)
			} else if val, ok := v.m[name]; ok {
				value = val
			} else if keepUnset {
				value = "$"
			} else {
				return out, fmt.Errorf("uninitialized variable: %s", name)
			}
			out = append(out, value...)
		}
	}
	return out, nil
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// expandInput matches one pattern string against one reply string the way
// imaptest's test_expand_input does, binding unset variables from the input.
// It returns the pattern with its variables replaced by their values; the
// caller compares that with the input. ok is false on an early mismatch.
func (v *vars) expandInput(str, input string) (out string, icase, ok bool) {
	icase = true
	var sb strings.Builder
	si, ii := 0, 0
	for si < len(str) {
		if str[si] != '$' || byteAt(str, si+1) == '$' {
			if str[si] == '$' {
				si++
			}
			if upper(str[si]) != upper(byteAt(input, ii)) {
				return "", icase, false
			}
			ii++
			sb.WriteByte(str[si])
			si++
			continue
		}
		si++
		var name string
		if byteAt(str, si) == '{' {
			end := strings.IndexByte(str[si+1:], '}')
			if end < 0 {
				return "", icase, true
			}
			name = str[si+1 : si+1+end]
			si += end + 2
		} else {
			j := si
			for j < len(str) && isVarChar(str[j]) {
				j++
			}
			name = str[si:j]
			si = j
		}
		var value string
		if seq, isSeq := uint32Str(name); isSeq {
			value = v.relativeSeq(seq)
		} else if strings.HasPrefix(name, "case:") {
			icase = false
			value = name[5:]
		} else {
			found := false
			if name != "" {
				value, found = v.m[name]
			}
			if !found {
				// Bind from the input, up to where the rest of the pattern
				// (its first character) starts.
				rest := str[si:]
				restIcase := true
				if byteAt(str, si) == '$' {
					r, ic, rok := v.expandInput(rest, input[ii:])
					if !rok {
						return "", icase, false
					}
					rest, restIcase = r, ic
				}
				stop := byteAt(rest, 0)
				p := ii
				for p < len(input) {
					if restIcase && upper(input[p]) == upper(stop) {
						break
					}
					if !restIcase && input[p] == stop {
						break
					}
					p++
				}
				value = input[ii:p]
				if name != "" {
					if idx, isModseq := modseqIndex(name); isModseq {
						value = v.newModseq(idx, value)
						v.m[name] = value
					} else {
						v.m[name] = value
						v.added = append(v.added, name)
					}
				}
			}
		}
		sb.WriteString(value)
		for k := 0; k < len(value); k++ {
			if byteAt(input, ii) != value[k] {
				return "", icase, false
			}
			ii++
		}
	}
	return sb.String(), icase, true
}

func modseqIndex(name string) (uint64, bool) {
	if !strings.HasPrefix(name, "modseq") {
		return 0, false
	}
	return uint32Str(name[6:])
}

// newModseq checks a value bound to $modseqN: modseqs grow, and by at least
// the gap between their indexes. A bad value is replaced by a marker that
// cannot match, so the mismatch shows in the report.
func (v *vars) newModseq(idx uint64, value string) string {
	n, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return "$modseq-not-number"
	}
	if v.modseqIdx > idx {
		return "$modseq-order-mismatch"
	}
	atLeast := v.modseqVal + (idx - v.modseqIdx)
	if n < atLeast {
		value = "$modseq-at-least-" + strconv.FormatUint(atLeast, 10)
		n = atLeast
	}
	v.modseqIdx = idx
	v.modseqVal = n
	return value
}

// full is returned by matchArgs and matchList for a complete match.
const full = -1

// matchArgs matches pattern args against reply args, at most max of them.
// It returns full on a match, else how many arguments matched before the
// first difference (used to find the best near miss). With prefix, the
// reply may have more arguments and its last compared string may be longer
// (for the text after "OK [code]").
func (v *vars) matchArgs(match, args []arg, max int, prefix bool) int {
	ret := 0
	mi, ai := 0, 0
	for mi < len(match) && max > 0 {
		m := &match[mi]
		var a *arg
		if ai < len(args) {
			a = &args[ai]
		}
		switch m.kind {
		case argNIL:
			if a == nil || a.kind != argNIL {
				return ret
			}
		case argAtom, argString, argLiteral:
			if m.s == "$" && a != nil && a.kind == argList {
				break // "$" also skips a list
			}
			if m.s == "$]" {
				// skip until an atom holding ']'
				for ai < len(args) {
					s, ok := args[ai].atom()
					if !ok || strings.IndexByte(s, ']') >= 0 {
						break
					}
					ai++
				}
				break
			}
			if a == nil {
				return ret
			}
			astr, ok := a.astring()
			if !ok {
				return ret
			}
			astr = cstr(astr)
			mstr, icase, ok := v.expandInput(cstr(m.s), astr)
			if !ok {
				return ret
			}
			if prefix && mi == len(match)-1 {
				if len(astr) < len(mstr) {
					return ret
				}
				if icase && !asciiEqualFold(astr[:len(mstr)], mstr) || !icase && astr[:len(mstr)] != mstr {
					return ret
				}
			} else if icase && !asciiEqualFold(astr, mstr) || !icase && astr != mstr {
				return ret
			}
		case argList:
			if a == nil || a.kind != argList {
				return ret
			}
			if sub := v.matchList(m.list, a.list); sub != full {
				return ret + sub
			}
		}
		ret++
		mi++
		ai++
		max--
	}
	if prefix || ai >= len(args) || max == 0 {
		return full
	}
	return ret
}

// matchList matches a list, honouring the $! directives at its front.
func (v *vars) matchList(match, args []arg) int {
	unordered := false
	chain := 1
	noextra := -1
	var ignores, bans []string
	for len(match) > 0 {
		s, ok := match[0].atom()
		if !ok || !strings.HasPrefix(s, "$!") {
			break
		}
		d := s[2:]
		switch {
		case strings.HasPrefix(d, "unordered"):
			unordered = true
			if noextra == -1 {
				noextra = 0
			}
			if strings.HasPrefix(d, "unordered=") {
				if n, err := strconv.Atoi(d[10:]); err == nil && n > 0 {
					chain = n
				}
			}
		case d == "ordered":
			unordered = false
		case d == "extra":
			noextra = 0
		case d == "noextra":
			noextra = 1
		case strings.HasPrefix(d, "ignore="):
			ignores = append(ignores, d[7:])
		case strings.HasPrefix(d, "ban="):
			bans = append(bans, d[4:])
		}
		match = match[1:]
	}
	if noextra == -1 {
		noextra = 1
	}
	if !unordered {
		return v.matchArgs(match, args, int(^uint(0)>>1), false)
	}
	if len(args)%chain != 0 {
		return 0
	}
	matched := make([]bool, len(args))
	ret := 0
	for mi := 0; mi < len(match); mi += chain {
		found := false
		for i := 0; i < len(args); i += chain {
			if v.matchArgs(match[mi:], args[i:], chain, false) == full {
				matched[i] = true
				found = true
				break
			}
		}
		if !found {
			return ret
		}
		ret++
	}
	inList := func(list []string, s string) bool {
		for _, x := range list {
			if asciiEqualFold(cstr(x), cstr(s)) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(args); i += chain {
		if matched[i] {
			continue
		}
		s, ok := args[i].astring()
		if !ok {
			continue
		}
		if noextra > 0 && !inList(ignores, s) {
			return ret
		}
		if noextra == 0 && inList(bans, s) {
			return ret
		}
	}
	return full
}
