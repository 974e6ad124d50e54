package main

import (
	"context"
	"sort"
	"strings"
)

// benchScenario is one "letterbox bench NAME" load generator. Each
// registers itself from its own bench_*.go file with an init function.
// Generators target any server (Letterbox or Dovecot) by address, so both
// are measured with the same tool.
type benchScenario struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var benchScenarios = map[string]benchScenario{}

func runBench(ctx context.Context, args []string) error {
	var names []string
	for n := range benchScenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		if len(names) == 0 {
			return usagef("no bench scenarios in this build yet")
		}
		return usagef("bench needs a scenario: %s", strings.Join(names, ", "))
	}
	sc, ok := benchScenarios[args[0]]
	if !ok {
		return usagef("unknown bench scenario %q; one of: %s", args[0], strings.Join(names, ", "))
	}
	return sc.run(ctx, args[1:])
}
