package sieve

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The date extension (RFC 5260): the date test reads a date from a
// header field, currentdate the time of the run (Input.Now). The index
// tags come from the index extension (RFC 5260 section 6).

func init() {
	registerExtension(&extDef{name: "date"})
	register(&cmdDef{name: "date", ext: "date", isTest: true,
		tags: withTags(matchTags, dateZoneTags, []tagDef{{name: "originalzone", group: "zone"}}, indexTags),
		pos:  []argType{aString, aString, aStringList}, minPos: -1, build: buildDate})
	register(&cmdDef{name: "currentdate", ext: "date", isTest: true, tags: withTags(matchTags, dateZoneTags),
		pos: []argType{aString, aStringList}, minPos: -1, build: buildCurrentDate})
}

var dateZoneTags = []tagDef{{name: "zone", param: aString, group: "zone"}}

var indexTags = []tagDef{{name: "index", ext: "index", param: aNumber}, {name: "last", ext: "index"}}

// datePart names the parts a date test can compare (RFC 5260 section 4.2).
var dateParts = map[string]bool{"year": true, "month": true, "day": true, "date": true,
	"julian": true, "hour": true, "minute": true, "second": true, "time": true,
	"iso8601": true, "std11": true, "zone": true, "weekday": true}

// dateZone says which zone a date is shown in.
type dateZone struct {
	original bool
	zone     str
	has      bool // :zone given
}

func (c *compiler) dateZone(a *args) (dateZone, error) {
	z := dateZone{original: a.has("originalzone")}
	if p, ok := a.tags["zone"]; ok {
		s, err := c.str(p, 0)
		if err != nil {
			return z, err
		}
		z.zone, z.has = s, true
	}
	return z, nil
}

// apply converts t into the zone asked for. Without :zone or
// :originalzone it is the local zone, the zone of Input.Now (RFC 5260
// section 4.1). A :zone that is not "+hhmm" or "-hhmm" falls back to the
// local zone, as Pigeonhole does, rather than failing the run.
func (z dateZone) apply(r *runtime, t time.Time) time.Time {
	switch {
	case z.original:
		return t
	case z.has:
		if loc, ok := parseZoneOffset(r.expand(z.zone)); ok {
			return t.In(loc)
		}
	}
	return t.In(r.now.Location())
}

// parseZoneOffset reads "+hhmm" or "-hhmm".
func parseZoneOffset(s string) (*time.Location, bool) {
	if len(s) != 5 || s[0] != '+' && s[0] != '-' {
		return nil, false
	}
	for i := 1; i < 5; i++ {
		if !isDigit(s[i]) {
			return nil, false
		}
	}
	h, _ := strconv.Atoi(s[1:3])
	m, _ := strconv.Atoi(s[3:5])
	if m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off), true
}

type dateTest struct {
	header str
	part   str
	zone   dateZone
	index  int
	last   bool
	m      *matcher
}

func buildDate(c *compiler, a *args) (any, error) {
	t := &dateTest{}
	var err error
	if t.header, err = c.str(a.pos[0], 0); err != nil {
		return nil, err
	}
	if t.header.parts == nil && !validFieldName([]byte(t.header.lit)) {
		return nil, errorAt(a.pos[0].pos, "invalid header name '%s'", t.header.lit)
	}
	if t.part, err = c.str(a.pos[1], 0); err != nil {
		return nil, err
	}
	if t.zone, err = c.dateZone(a); err != nil {
		return nil, err
	}
	if p, ok := a.tags["index"]; ok {
		if p.num == 0 {
			return nil, errorAt(p.pos, "the :index argument must be at least 1")
		}
		t.index = int(p.num)
	}
	if a.has("last") {
		if t.index == 0 {
			return nil, errorAt(a.n.pos, "the :last tag requires :index")
		}
		t.last = true
	}
	if t.m, err = c.matcher(a, a.pos[2]); err != nil {
		return nil, err
	}
	return t, nil
}

// eval compares the date part of every field that holds a valid date;
// fields that do not are skipped (RFC 5260 section 4: such a field does
// not match, and is not counted).
func (t *dateTest) eval(r *runtime) (bool, error) {
	part := strings.ToLower(r.expand(t.part))
	if !dateParts[part] {
		// An unknown date part matches nothing (Pigeonhole accepts it).
		return false, nil
	}
	name := r.expand(t.header)
	fields := pickIndex(r.msg.headerValues(name), t.index, t.last)
	var vals []string
	for _, f := range fields {
		if strings.EqualFold(name, "received") {
			// The date of a Received field follows its last ';' (RFC
			// 5260 section 4.1).
			if i := strings.LastIndexByte(f, ';'); i >= 0 {
				f = f[i+1:]
			}
		}
		d, ok := parseDate(f)
		if !ok {
			continue
		}
		vals = append(vals, formatDatePart(t.zone.apply(r, d), part))
	}
	return t.m.match(r, vals)
}

type currentDateTest struct {
	part str
	zone dateZone
	m    *matcher
}

func buildCurrentDate(c *compiler, a *args) (any, error) {
	t := &currentDateTest{}
	var err error
	if t.part, err = c.str(a.pos[0], 0); err != nil {
		return nil, err
	}
	if t.zone, err = c.dateZone(a); err != nil {
		return nil, err
	}
	if t.m, err = c.matcher(a, a.pos[1]); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *currentDateTest) eval(r *runtime) (bool, error) {
	part := strings.ToLower(r.expand(t.part))
	if !dateParts[part] {
		return false, nil
	}
	return t.m.match(r, []string{formatDatePart(t.zone.apply(r, r.now), part)})
}

// formatDatePart renders one date part (RFC 5260 section 4.2).
func formatDatePart(t time.Time, part string) string {
	switch part {
	case "year":
		return fmt.Sprintf("%04d", t.Year())
	case "month":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "day":
		return fmt.Sprintf("%02d", t.Day())
	case "date":
		return t.Format("2006-01-02")
	case "julian":
		// Modified Julian Day: days since 1858-11-17 (of the date as
		// seen in the zone).
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		epoch := time.Date(1858, time.November, 17, 0, 0, 0, 0, time.UTC)
		return strconv.Itoa(int(d.Sub(epoch).Hours() / 24))
	case "hour":
		return fmt.Sprintf("%02d", t.Hour())
	case "minute":
		return fmt.Sprintf("%02d", t.Minute())
	case "second":
		return fmt.Sprintf("%02d", t.Second())
	case "time":
		return t.Format("15:04:05")
	case "iso8601":
		// RFC 3339 date-time; a zero offset is written "Z", as
		// Pigeonhole does.
		return t.Format("2006-01-02T15:04:05Z07:00")
	case "std11":
		return t.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	case "zone":
		return t.Format("-0700")
	case "weekday":
		return strconv.Itoa(int(t.Weekday()))
	}
	return ""
}

var monthNames = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

var dayNames = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}

// zoneNames are the obsolete zone names of RFC 5322 section 4.3.
var zoneNames = map[string]int{"ut": 0, "gmt": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5,
	"mst": -7, "mdt": -6, "pst": -8, "pdt": -7}

// parseDate reads an RFC 5322 date-time, obsolete forms included (no
// weekday, no seconds, two-digit years, named zones, comments). The
// weekday is not checked against the date: mail often gets it wrong.
func parseDate(s string) (time.Time, bool) {
	s = stripComments(s)
	s = strings.ReplaceAll(s, ",", " , ")
	f := strings.Fields(s)
	if len(f) > 0 && dayNames[strings.ToLower(f[0])] {
		f = f[1:]
		if len(f) > 0 && f[0] == "," {
			f = f[1:]
		}
	}
	if len(f) < 4 {
		return time.Time{}, false
	}
	day, err := strconv.Atoi(f[0])
	if err != nil || len(f[0]) > 2 {
		return time.Time{}, false
	}
	mon, ok := monthNames[strings.ToLower(f[1])]
	if !ok {
		return time.Time{}, false
	}
	year, err := strconv.Atoi(f[2])
	if err != nil || f[2][0] == '-' || f[2][0] == '+' {
		return time.Time{}, false
	}
	switch len(f[2]) {
	case 2:
		// RFC 5322 section 4.3: 00-49 are 2000-2049, 50-99 1950-1999.
		if year < 50 {
			year += 2000
		} else {
			year += 1900
		}
	case 3:
		year += 1900
	}
	hms := strings.Split(f[3], ":")
	if len(hms) < 2 || len(hms) > 3 {
		return time.Time{}, false
	}
	var clock [3]int
	for i, x := range hms {
		if len(x) != 2 {
			return time.Time{}, false
		}
		if clock[i], err = strconv.Atoi(x); err != nil {
			return time.Time{}, false
		}
	}
	if clock[0] > 23 || clock[1] > 59 || clock[2] > 60 {
		return time.Time{}, false
	}
	if clock[2] == 60 {
		clock[2] = 59 // a leap second: keep it in its minute
	}
	loc := time.UTC
	if len(f) > 4 {
		z := f[4]
		if l, ok := parseZoneOffset(z); ok {
			loc = l
		} else if h, ok := zoneNames[strings.ToLower(z)]; ok {
			loc = time.FixedZone("", h*3600)
		} else if len(z) != 1 || !isAlpha(z[0]) {
			// Military zones are unreliable: RFC 5322 treats them as
			// -0000 (unknown), which we read as UTC.
			return time.Time{}, false
		}
	}
	if year < 1 || day < 1 || day > daysIn(mon, year) {
		return time.Time{}, false
	}
	return time.Date(year, mon, day, clock[0], clock[1], clock[2], 0, loc), true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// stripComments removes (possibly nested) parenthesized comments.
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}
