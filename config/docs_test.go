package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const docsPath = "../docs/config.md"

// docRow is one row of a reference table in docs/config.md.
type docRow struct {
	key           string
	noFile, withF string // the default columns
}

var literalCell = regexp.MustCompile("^`([^`]*)`( \\(off\\))?$")

// referenceRows returns the rows of the tables under "## Reference": those
// with five cells whose first is a `key`.
func referenceRows(t *testing.T) []docRow {
	t.Helper()
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	_, ref, ok := strings.Cut(string(data), "\n## Reference\n")
	if !ok {
		t.Fatalf("%s has no ## Reference section", docsPath)
	}
	ref, _, _ = strings.Cut(ref, "\n## ")
	var rows []docRow
	for line := range strings.SplitSeq(ref, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 5 {
			t.Errorf("reference row has %d cells, want 5: %s", len(cells), line)
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		m := literalCell.FindStringSubmatch(cells[0])
		if m == nil {
			t.Errorf("reference row does not start with a `key`: %s", line)
			continue
		}
		rows = append(rows, docRow{key: m[1], noFile: cells[2], withF: cells[3]})
	}
	return rows
}

func allKeys() []string {
	var keys []string
	leaves(reflect.ValueOf(&Config{}).Elem(), "", func(key string, _ reflect.Value) {
		keys = append(keys, key)
	})
	return keys
}

// TestDocsListEveryKey fails when a key is added to Config without a row in
// docs/config.md, or a row documents a key that does not exist.
func TestDocsListEveryKey(t *testing.T) {
	rows := referenceRows(t)
	documented := make(map[string]int)
	for _, r := range rows {
		documented[r.key]++
	}
	keys := allKeys()
	for _, k := range keys {
		if documented[k] != 1 {
			t.Errorf("key %s has %d rows in %s, want 1", k, documented[k], docsPath)
		}
		delete(documented, k)
	}
	for k := range documented {
		t.Errorf("%s documents %s, which is not a key of Config", docsPath, k)
	}
	if len(keys) < 25 {
		t.Errorf("only %d keys found; is leaves broken?", len(keys))
	}
}

// docValue decodes a TOML literal from the docs as the value of key, with
// the same decoder as Load.
func docValue(t *testing.T, key, literal string) (reflect.Value, bool) {
	t.Helper()
	src := key[strings.LastIndex(key, ".")+1:] + " = " + literal + "\n"
	if i := strings.LastIndex(key, "."); i >= 0 {
		src = "[" + key[:i] + "]\n" + src
	}
	var tree map[string]any
	if _, err := toml.Decode(src, &tree); err != nil {
		t.Errorf("%s: default %s is not a TOML value: %v", key, literal, err)
		return reflect.Value{}, false
	}
	var c Config
	var ps []*KeyError
	decodeTable(tree, "", reflectOf(&c), map[string]bool{}, &ps)
	if len(ps) > 0 {
		t.Errorf("%s: default %s does not decode: %v", key, literal, join(ps))
		return reflect.Value{}, false
	}
	var v reflect.Value
	leaves(reflectOf(&c), "", func(k string, f reflect.Value) {
		if k == key {
			v = f
		}
	})
	return v, true
}

// TestDocsDefaults compares the default columns of the reference with
// Default() and with an empty config file. A cell that is one `literal`,
// maybe followed by "(off)", is compared; a cell with prose (a default that depends on other keys) is
// checked by TestDependentDefaults instead.
func TestDocsDefaults(t *testing.T) {
	noEnv(t)
	fromFile, err := loadString(t, "")
	if err != nil {
		t.Fatal(err)
	}
	actual := map[string]map[string]reflect.Value{"no file": {}, "with a file": {}}
	leaves(reflectOf(Default()), "", func(k string, f reflect.Value) { actual["no file"][k] = f })
	leaves(reflectOf(fromFile), "", func(k string, f reflect.Value) { actual["with a file"][k] = f })

	compared := 0
	for _, r := range referenceRows(t) {
		for column, cell := range map[string]string{"no file": r.noFile, "with a file": r.withF} {
			m := literalCell.FindStringSubmatch(cell)
			if m == nil {
				continue
			}
			want, ok := actual[column][r.key]
			if !ok {
				continue // reported by TestDocsListEveryKey
			}
			got, ok := docValue(t, r.key, m[1])
			if !ok {
				continue
			}
			compared++
			if !reflect.DeepEqual(got.Interface(), want.Interface()) {
				t.Errorf("%s: docs say the default %s is %s, it is %v", r.key, column, cell, want.Interface())
			}
		}
	}
	if least := 2*len(allKeys()) - 4; compared < least {
		t.Errorf("compared %d default cells, want at least %d: too many defaults in prose?", compared, least)
	}
}

// TestDocsExample checks that the example in docs/config.md is
// testdata/config/example.toml, which TestExampleFile loads.
func TestDocsExample(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../testdata/config/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "\n## Example\n")
	if !ok {
		t.Fatal("no ## Example section")
	}
	_, block, ok := strings.Cut(after, "```toml\n")
	if !ok {
		t.Fatal("no toml block in ## Example")
	}
	block, _, _ = strings.Cut(block, "```\n")
	if block != string(example) {
		t.Errorf("the example in %s differs from testdata/config/example.toml", docsPath)
	}
}
