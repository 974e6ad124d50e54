package storage

import (
	"errors"
	"fmt"
	"letterbox/message"
	"sort"
	"strings"
	"time"
)

// Errors callers map to protocol replies. They are wrapped with context; test
// with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrInvalidName   = errors.New("invalid name")
	ErrOverQuota     = errors.New("over quota")
	ErrNotEmpty      = errors.New("has children")
	ErrNoDomain      = errors.New("domain not hosted")
	ErrTooNew        = errors.New("database schema is newer than this program")
	ErrInboxProtect  = errors.New("INBOX cannot be deleted")
	ErrClosed        = errors.New("store closed")
	ErrTooBig        = errors.New("message too big")
	errRetryBatch    = errors.New("retry")
	errNoActiveRoute = errors.New("no route")
)

// UID is a message's unique identifier within one UIDVALIDITY of a mailbox.
type UID uint32

// UIDRange is the inclusive range Start..Stop; Stop 0 means "to the highest".
type UIDRange struct{ Start, Stop UID }

// UIDSet is a list of ranges. A nil set means "every message".
type UIDSet []UIDRange

// UIDSetOf builds a set holding exactly the given UIDs, compacted into ranges.
func UIDSetOf(uids ...UID) UIDSet {
	if len(uids) == 0 {
		return UIDSet{}
	}
	s := append([]UID(nil), uids...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	set := UIDSet{{s[0], s[0]}}
	for _, u := range s[1:] {
		last := &set[len(set)-1]
		switch {
		case u == last.Stop:
		case u == last.Stop+1:
			last.Stop = u
		default:
			set = append(set, UIDRange{u, u})
		}
	}
	return set
}

// Contains reports whether uid is in the set; a nil set contains everything.
func (s UIDSet) Contains(uid UID) bool {
	if s == nil {
		return true
	}
	for _, r := range s {
		stop := r.Stop
		if stop == 0 {
			stop = ^UID(0)
		}
		lo, hi := r.Start, stop
		if lo > hi {
			lo, hi = hi, lo
		}
		if uid >= lo && uid <= hi {
			return true
		}
	}
	return false
}

// bounds returns the smallest range covering the set, for a first SQL filter.
func (s UIDSet) bounds() (lo, hi UID) {
	if s == nil {
		return 1, ^UID(0)
	}
	lo, hi = ^UID(0), 0
	for _, r := range s {
		stop := r.Stop
		if stop == 0 {
			stop = ^UID(0)
		}
		a, b := r.Start, stop
		if a > b {
			a, b = b, a
		}
		lo, hi = min(lo, a), max(hi, b)
	}
	return lo, hi
}

func (s UIDSet) String() string {
	if s == nil {
		return "1:*"
	}
	parts := make([]string, len(s))
	for i, r := range s {
		switch {
		case r.Stop == 0:
			parts[i] = fmt.Sprintf("%d:*", r.Start)
		case r.Start == r.Stop:
			parts[i] = fmt.Sprint(r.Start)
		default:
			parts[i] = fmt.Sprintf("%d:%d", r.Start, r.Stop)
		}
	}
	return strings.Join(parts, ",")
}

// System flags. Keywords are any other flag names.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// Flags of one message: the system flags and the keywords.
type Flags struct {
	Seen, Answered, Flagged, Deleted, Draft bool
	Keywords                                []string
}

// ParseFlags sorts flag names into system flags (case-insensitively, RFC 9051
// section 2.3.2) and keywords, dropping duplicates. \Recent and other unknown
// backslash names are ignored: they cannot be stored.
func ParseFlags(names []string) Flags {
	var f Flags
	seen := map[string]bool{}
	for _, n := range names {
		switch strings.ToLower(n) {
		case `\seen`:
			f.Seen = true
		case `\answered`:
			f.Answered = true
		case `\flagged`:
			f.Flagged = true
		case `\deleted`:
			f.Deleted = true
		case `\draft`:
			f.Draft = true
		default:
			if strings.HasPrefix(n, `\`) || n == "" {
				continue
			}
			k := strings.ToLower(n)
			if !seen[k] {
				seen[k] = true
				f.Keywords = append(f.Keywords, n)
			}
		}
	}
	sort.Strings(f.Keywords)
	return f
}

// Names lists the flags as IMAP flag names: system flags first, then keywords.
func (f Flags) Names() []string {
	var out []string
	for _, sf := range []struct {
		on   bool
		name string
	}{{f.Seen, FlagSeen}, {f.Answered, FlagAnswered}, {f.Flagged, FlagFlagged}, {f.Deleted, FlagDeleted}, {f.Draft, FlagDraft}} {
		if sf.on {
			out = append(out, sf.name)
		}
	}
	return append(out, f.Keywords...)
}

// HasKeyword matches a keyword case-insensitively.
func (f Flags) HasKeyword(k string) bool {
	for _, have := range f.Keywords {
		if strings.EqualFold(have, k) {
			return true
		}
	}
	return false
}

// Account is a mail user. It is what every per-user call takes: the store
// routes by Domain and confines every query to ID.
type Account struct {
	ID           int64
	Name         string // login, user@domain, lower case
	Domain       string
	PasswordHash string
	QuotaBytes   int64 // 0: unlimited
	UsedBytes    int64
	Created      time.Time
}

// Special-use attributes (RFC 6154).
const (
	SpecialAll     = `\All`
	SpecialArchive = `\Archive`
	SpecialDrafts  = `\Drafts`
	SpecialFlagged = `\Flagged`
	SpecialJunk    = `\Junk`
	SpecialSent    = `\Sent`
	SpecialTrash   = `\Trash`
)

// Mailbox is a folder with its counters, kept in the same transaction as
// every change to its messages.
type Mailbox struct {
	ID            int64
	Name          string // UTF-8, '/' separated
	UIDValidity   uint32
	UIDNext       UID
	HighestModSeq uint64
	SpecialUse    string
	Messages      int64
	Unseen        int64
	Deleted       int64
	Size          int64
	VanishedFloor uint64 // tombstones at or below this MODSEQ were pruned
	Subscribed    bool   // filled by ListMailboxes
	HasChildren   bool   // filled by ListMailboxes
}

// Message is the narrow per-message record: what FETCH FLAGS/UID/
// INTERNALDATE/RFC822.SIZE/MODSEQ needs, without touching the content.
type Message struct {
	UID          UID
	ModSeq       uint64
	InternalDate time.Time
	SaveDate     time.Time
	Size         int64
	Flags        Flags
	UIDL         string // imported POP3 UIDL, empty if none
	Blob         []byte // content hash (SHA-256)

	Parsed *message.Parsed // with WantParsed
	Header []byte          // with WantHeader
}

// AppendOptions are the optional parts of an APPEND.
type AppendOptions struct {
	Flags        []string
	InternalDate time.Time // zero: now
	UIDL         string    // keep a UIDL imported from another server
}

// AppendResult says where a message landed.
type AppendResult struct {
	UIDValidity uint32
	UID         UID
	ModSeq      uint64
}

// CopyResult maps source UIDs to their new UIDs in the destination (COPYUID).
type CopyResult struct {
	UIDValidity uint32
	Source      []UID
	Dest        []UID
}

// StoreMode says how STORE combines the given flags with the present ones.
type StoreMode int

const (
	StoreReplace StoreMode = iota
	StoreAdd
	StoreRemove
)

// StoreRequest is one STORE: flags, how to apply them, and the CONDSTORE
// UNCHANGEDSINCE condition (0: none).
type StoreRequest struct {
	Mode           StoreMode
	Flags          []string
	UnchangedSince uint64
}

// StoreResult lists the messages whose flags changed (with their new flags
// and MODSEQ) and those refused by UNCHANGEDSINCE (RFC 7162 section 3.1.3).
type StoreResult struct {
	Changed  []Message
	Modified []UID
}

// Changes is what happened in a mailbox after a MODSEQ: messages added or
// with changed flags, and UIDs expunged.
type Changes struct {
	HighestModSeq uint64
	Changed       []Message
	Vanished      []UID
	// Truncated is set when tombstones older than the asked MODSEQ were
	// pruned: the caller must resynchronise in full.
	Truncated bool
}

// UIDL is one POP3 listing entry for INBOX.
type UIDL struct {
	UID  UID
	Size int64
	UIDL string
}

// SieveScript is a named Sieve script of an account.
type SieveScript struct {
	Name    string
	Content string
	Active  bool
	Updated time.Time
}

// Quota is an account's storage limit and usage.
type Quota struct {
	LimitBytes int64 // 0: unlimited
	UsedBytes  int64
	Messages   int64
}
