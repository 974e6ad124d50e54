package sieve

import (
	"os"
	"runtime/debug"
	"strings"
	"sync"
)

// The environment extension (RFC 5183): the environment test reads
// items about the Sieve interpreter and the delivery. Input.Env adds
// items and overrides the defaults (e.g. remote-host and remote-ip,
// which only the LMTP session knows).

func init() {
	registerExtension(&extDef{name: "environment"})
	register(&cmdDef{name: "environment", ext: "environment", isTest: true, tags: matchTags,
		pos: []argType{aString, aStringList}, minPos: -1, build: buildEnvironment})
}

// hostOnce reads the host name once: it does not change while we run.
var hostOnce = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
})

// envItem returns an environment item and whether it exists. An item
// with no value is absent, so that every match fails, :count included
// (RFC 5183 section 4: "unknown or unavailable items").
func (r *runtime) envItem(name string) (string, bool) {
	name = strings.ToLower(name)
	if v, ok := r.in.Env[name]; ok {
		return v, true
	}
	switch name {
	case "domain":
		// The domain of this host (RFC 5183 section 4.1).
		h := hostOnce()
		if i := strings.IndexByte(h, '.'); i >= 0 {
			return h[i+1:], true
		}
		return h, true
	case "host":
		return hostOnce(), true
	case "location":
		return "MDA", true // we run at final delivery
	case "name":
		return "Letterbox", true
	case "phase":
		return "during", true
	case "version":
		return version(), true
	}
	return "", false
}

// version is the version of the program, from its build information.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.1"
}

type environmentTest struct {
	name str
	m    *matcher
}

func buildEnvironment(c *compiler, a *args) (any, error) {
	name, err := c.str(a.pos[0], 0)
	if err != nil {
		return nil, err
	}
	m, err := c.matcher(a, a.pos[1])
	if err != nil {
		return nil, err
	}
	return &environmentTest{name: name, m: m}, nil
}

func (t *environmentTest) eval(r *runtime) (bool, error) {
	v, ok := r.envItem(r.expand(t.name))
	if !ok {
		return false, nil
	}
	return t.m.match(r, []string{v})
}
