package storage

import "sync"

// Watch delivers wake-ups for one mailbox. A wake-up says only "something
// may have changed": the watcher asks Changes what. Wake-ups coalesce, so a
// slow watcher never blocks a writer.
type Watch struct {
	C    <-chan struct{}
	c    chan struct{}
	key  mailboxKey
	hub  *hub
	once sync.Once
}

// Close stops the wake-ups.
func (w *Watch) Close() { w.once.Do(func() { w.hub.remove(w) }) }

type mailboxKey struct {
	domain  string
	mailbox int64
}

type hub struct {
	mu   sync.Mutex
	subs map[mailboxKey]map[*Watch]struct{}
}

func newHub() *hub { return &hub{subs: map[mailboxKey]map[*Watch]struct{}{}} }

// Watch subscribes to the change events of one of a's mailboxes. Changes made
// through this Store (any protocol, any session) wake it once committed.
func (s *Store) Watch(a *Account, mailboxID int64) *Watch {
	c := make(chan struct{}, 1)
	w := &Watch{C: c, c: c, key: mailboxKey{a.Domain, mailboxID}, hub: s.hub}
	s.hub.mu.Lock()
	set := s.hub.subs[w.key]
	if set == nil {
		set = map[*Watch]struct{}{}
		s.hub.subs[w.key] = set
	}
	set[w] = struct{}{}
	s.hub.mu.Unlock()
	return w
}

func (h *hub) remove(w *Watch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.subs[w.key]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(h.subs, w.key)
		}
	}
}

// notify wakes the watchers of the given mailboxes. Call it after the commit.
func (h *hub) notify(domain string, mailboxes ...int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range mailboxes {
		for w := range h.subs[mailboxKey{domain, id}] {
			select {
			case w.c <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	}
}
