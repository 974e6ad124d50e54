package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func reflectOf(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }

// isSection reports whether a field of a config struct is a [section]
// rather than a value.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(textUnmarshaler)
}

// tomlName returns the key of a struct field.
func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

func dotted(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// leaves calls fn for every value key of the struct v, in the order of the
// fields, with its dotted name.
func leaves(v reflect.Value, prefix string, fn func(key string, field reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		key := dotted(prefix, tomlName(t.Field(i)))
		if isSection(t.Field(i).Type) {
			leaves(v.Field(i), key, fn)
		} else {
			fn(key, v.Field(i))
		}
	}
}

// decodeTable copies the TOML table tbl into the struct v. Keys must match
// the toml tags exactly. Every key it sets goes into set; every problem
// (unknown key, wrong type, bad duration) is appended to problems and
// leaves the field as it was.
func decodeTable(tbl map[string]any, prefix string, v reflect.Value, set map[string]bool, problems *[]*KeyError) {
	t := v.Type()
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		fields[tomlName(t.Field(i))] = i
	}
	names := make([]string, 0, len(tbl))
	for name := range tbl {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		key, val := dotted(prefix, name), tbl[name]
		i, ok := fields[name]
		if !ok {
			*problems = append(*problems, &KeyError{Key: key, Problem: unknown(name, val, fields)})
			continue
		}
		field := v.Field(i)
		if isSection(field.Type()) {
			sub, ok := val.(map[string]any)
			if !ok {
				*problems = append(*problems, &KeyError{Key: key,
					Problem: fmt.Sprintf("must be a table ([%s]), not %s", key, describe(val))})
				continue
			}
			set[key] = true
			decodeTable(sub, key, field, set, problems)
			continue
		}
		if err := setValue(field, val); err != nil {
			*problems = append(*problems, &KeyError{Key: key, Problem: err.Error()})
			continue
		}
		set[key] = true
	}
}

// setValue stores the TOML value val into field, or says why it cannot.
func setValue(field reflect.Value, val any) error {
	if u, ok := field.Addr().Interface().(encoding.TextUnmarshaler); ok {
		s, ok := val.(string)
		if !ok {
			if _, dur := u.(*Duration); dur {
				return fmt.Errorf("must be a duration string such as \"10m\", not %s", describe(val))
			}
			return fmt.Errorf("must be a string, not %s", describe(val))
		}
		return u.UnmarshalText([]byte(s))
	}
	switch field.Kind() {
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return fmt.Errorf("must be a string, not %s", describe(val))
		}
		field.SetString(s)
	case reflect.Int, reflect.Int64:
		n, ok := val.(int64)
		if !ok {
			return fmt.Errorf("must be an integer, not %s", describe(val))
		}
		if field.OverflowInt(n) {
			return fmt.Errorf("%d is too large", n)
		}
		field.SetInt(n)
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return fmt.Errorf("must be true or false, not %s", describe(val))
		}
		field.SetBool(b)
	case reflect.Float64:
		// A whole number is a number too: max_value = 10 means 10.0.
		switch v := val.(type) {
		case float64:
			field.SetFloat(v)
		case int64:
			field.SetFloat(float64(v))
		default:
			return fmt.Errorf("must be a number, not %s", describe(val))
		}
	case reflect.Slice:
		if field.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("cannot be decoded into %s", field.Type())
		}
		arr, ok := val.([]any)
		if !ok {
			return fmt.Errorf("must be an array of strings, not %s", describe(val))
		}
		// Never nil, even for []: see defaultSieve.
		list := reflect.MakeSlice(field.Type(), len(arr), len(arr))
		for i, e := range arr {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("element %d must be a string, not %s", i+1, describe(e))
			}
			list.Index(i).SetString(s)
		}
		field.Set(list)
	default:
		// A field type this decoder does not know: a bug caught by the
		// tests, which decode every key.
		return fmt.Errorf("cannot be decoded into %s", field.Type())
	}
	return nil
}

// describe names the TOML type of a decoded value, with the value when it
// is short, for error messages.
func describe(val any) string {
	switch v := val.(type) {
	case string:
		if len(v) > 40 {
			return "a string"
		}
		return fmt.Sprintf("a string (%q)", v)
	case int64:
		return fmt.Sprintf("an integer (%d)", v)
	case float64:
		return fmt.Sprintf("a float (%v)", v)
	case bool:
		return fmt.Sprintf("a boolean (%v)", v)
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	case time.Time:
		return "a date or time"
	default:
		return fmt.Sprintf("a %T", val)
	}
}

// unknown words the problem of a key that is not in the table, with a
// suggestion when a known key is close.
func unknown(name string, val any, fields map[string]int) string {
	what := "unknown key"
	if _, ok := val.(map[string]any); ok {
		what = "unknown section"
	}
	best, bestDist := "", 3
	for known := range fields {
		d := distance(strings.ToLower(name), known)
		if d < bestDist || (d == bestDist && known < best) {
			best, bestDist = known, d
		}
	}
	if best != "" && bestDist < len(best)/2+1 {
		return fmt.Sprintf("%s (did you mean %q?)", what, best)
	}
	return what
}

// distance is the Levenshtein edit distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
