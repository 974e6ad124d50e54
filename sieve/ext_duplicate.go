package sieve

import "time"

// The duplicate extension (RFC 7352). The test asks Input.Tracker
// whether the message's id was seen in an earlier delivery; the id is
// recorded through Result.Track, which the caller stores only once the
// delivery succeeded (RFC 7352 section 3: an id is remembered only when
// the script ran to completion, so a failed delivery is not a duplicate
// the next time).

func init() {
	registerExtension(&extDef{name: "duplicate"})
	register(&cmdDef{name: "duplicate", ext: "duplicate", isTest: true, tags: []tagDef{
		{name: "handle", param: aString},
		{name: "header", param: aString, group: "dupid"},
		{name: "uniqueid", param: aString, group: "dupid"},
		{name: "seconds", param: aNumber},
		{name: "last"},
	}, build: buildDuplicate})
}

type duplicateTest struct {
	handle    str
	header    str
	uniqueID  str
	hasUnique bool
	seconds   uint64
	hasSecs   bool
	last      bool
}

func buildDuplicate(c *compiler, a *args) (any, error) {
	t := &duplicateTest{header: constStr("message-id"), last: a.has("last")}
	var err error
	if p, ok := a.tags["handle"]; ok {
		if t.handle, err = c.str(p, 0); err != nil {
			return nil, err
		}
	}
	if p, ok := a.tags["header"]; ok {
		if t.header, err = c.str(p, 0); err != nil {
			return nil, err
		}
		if t.header.parts == nil && (t.header.lit == "" || !validFieldName([]byte(t.header.lit))) {
			return nil, errorAt(p.pos, "invalid header name '%s'", t.header.lit)
		}
	}
	if p, ok := a.tags["uniqueid"]; ok {
		if t.uniqueID, err = c.str(p, 0); err != nil {
			return nil, err
		}
		t.hasUnique = true
	}
	if p, ok := a.tags["seconds"]; ok {
		t.seconds, t.hasSecs = p.num, true
	}
	return t, nil
}

func (t *duplicateTest) eval(r *runtime) (bool, error) {
	var id string
	if t.hasUnique {
		id = r.expand(t.uniqueID)
	} else {
		vals := r.msg.headerValues(r.expand(t.header))
		if len(vals) == 0 || vals[0] == "" {
			// No id, nothing to compare: not a duplicate, and nothing
			// is tracked (RFC 7352 section 3.1).
			return false, nil
		}
		id = vals[0]
	}
	// The handle separates the lists of ids (RFC 7352 section 3.2).
	key := r.expand(t.handle) + "\x00" + id
	period := r.script.opts.duplicatePeriod()
	if t.hasSecs {
		period = time.Duration(t.seconds) * time.Second
		if max := r.script.opts.duplicateMaxPeriod(); period > max {
			period = max
		}
	}
	// Only earlier deliveries count: an id met earlier in this run is
	// no duplicate (RFC 7352 section 3).
	seen := r.in.Tracker != nil && r.in.Tracker.Seen("duplicate", key)
	// Without :last an id keeps the expiry of its first sighting; with
	// :last every sighting restarts it (RFC 7352 section 3.4).
	if !seen || t.last {
		r.track(TrackEntry{Kind: "duplicate", Key: key, Period: period})
	}
	return seen, nil
}

// track adds an entry to the result once per kind and key; a second
// one keeps the longer period.
func (r *runtime) track(e TrackEntry) {
	for i, prev := range r.res.Track {
		if prev.Kind == e.Kind && prev.Key == e.Key {
			if e.Period > prev.Period {
				r.res.Track[i].Period = e.Period
			}
			return
		}
	}
	r.res.Track = append(r.res.Track, e)
}

func (o *Options) duplicatePeriod() time.Duration {
	if o == nil || o.DuplicatePeriod <= 0 {
		return 14 * 24 * time.Hour
	}
	return o.DuplicatePeriod
}

func (o *Options) duplicateMaxPeriod() time.Duration {
	if o == nil || o.DuplicateMaxPeriod <= 0 {
		return 7 * 24 * time.Hour
	}
	return o.DuplicateMaxPeriod
}
