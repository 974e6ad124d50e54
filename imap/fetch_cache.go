package imap

import (
	"container/list"
	"sync"
)

// structCache keeps rendered ENVELOPE, BODYSTRUCTURE and BODY values by
// blob hash, so that a FETCH of those items (what every client sends when
// it opens a mailbox) needs only the narrow rows from storage, not the
// parsed form of every message. Blobs are content-addressed (SHA-256), so
// a hash always renders the same: entries never go stale and need no
// invalidation. The cache is shared by all sessions and bounded in bytes;
// the least recently used entries go first.
type structCache struct {
	mu    sync.Mutex
	max   int
	size  int
	items map[string]*list.Element
	lru   list.List // front: most recently used; values are *structEntry
}

// structEntry holds the renderings of one blob; a nil one is not known yet.
type structEntry struct {
	key  string
	vals [3][]byte // by structKind
}

type structKind uint8

const (
	structEnvelope structKind = iota
	structBodyStructure
	structBody
)

// structCacheMax bounds the cache: about 60,000 messages' worth of
// ENVELOPE and BODYSTRUCTURE.
const structCacheMax = 64 << 20

// entryOverhead approximates what an entry costs beyond its bytes.
const entryOverhead = 200

var renderCache = newStructCache(structCacheMax)

func newStructCache(max int) *structCache {
	return &structCache{max: max, items: map[string]*list.Element{}}
}

// lookup copies into v the renderings cached for blob and reports whether
// every kind in kinds was there. The byte slices are never changed once
// cached, so v stays valid after the entry is evicted.
func (c *structCache) lookup(blob []byte, kinds []structKind, v *[3][]byte) bool {
	if len(blob) == 0 {
		return false
	}
	c.mu.Lock()
	el, ok := c.items[string(blob)]
	if ok {
		c.lru.MoveToFront(el)
		*v = el.Value.(*structEntry).vals
	}
	c.mu.Unlock()
	return ok && c.complete(v, kinds)
}

// complete reports whether v has every kind in kinds.
func (c *structCache) complete(v *[3][]byte, kinds []structKind) bool {
	for _, k := range kinds {
		if v[k] == nil {
			return false
		}
	}
	return true
}

// put stores a copy of val as the rendering of blob.
func (c *structCache) put(blob []byte, k structKind, val []byte) {
	if len(blob) == 0 || len(val)+entryOverhead > c.max {
		return
	}
	v := append([]byte(nil), val...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[string(blob)]; ok {
		e := el.Value.(*structEntry)
		c.size += len(v) - len(e.vals[k])
		e.vals[k] = v
		c.lru.MoveToFront(el)
	} else {
		e := &structEntry{key: string(blob)}
		e.vals[k] = v
		c.items[e.key] = c.lru.PushFront(e)
		c.size += len(v) + len(e.key) + entryOverhead
	}
	for c.size > c.max {
		el := c.lru.Back()
		e := el.Value.(*structEntry)
		c.lru.Remove(el)
		delete(c.items, e.key)
		c.size -= len(e.key) + entryOverhead
		for _, b := range e.vals {
			c.size -= len(b)
		}
	}
}
