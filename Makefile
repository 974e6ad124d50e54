# Letterbox. `make run` starts the server with built-in defaults (SQLite in
# ./letterbox-data, loopback ports); `make test` runs every test.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build run test bench lint fuzz pgo clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o letterbox ./cmd/letterbox

run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/letterbox serve

# LETTERBOX_TEST_PG (a PostgreSQL URL) enables the PostgreSQL half of the
# storage suite; LETTERBOX_CONFORMANCE points at the third-party suites
# (default ../shared/conformance when it exists).
test: lint
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

# Short fuzzing runs of every parser that reads client input.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./message/
	$(GO) test -run='^$$' -fuzz='^FuzzVerifyPassword$$' -fuzztime=$(FUZZTIME) ./auth/
	$(GO) test -run='^$$' -fuzz='^FuzzSession$$' -fuzztime=$(FUZZTIME) ./imap/
	$(GO) test -run='^$$' -fuzz='^FuzzFetch$$' -fuzztime=$(FUZZTIME) ./imap/
	$(GO) test -run='^$$' -fuzz='^FuzzParseLine$$' -fuzztime=$(FUZZTIME) ./pop3/
	$(GO) test -run='^$$' -fuzz='^FuzzStuff$$' -fuzztime=$(FUZZTIME) ./pop3/
	$(GO) test -run='^$$' -fuzz='^FuzzSession$$' -fuzztime=$(FUZZTIME) ./pop3/
	$(GO) test -run='^$$' -fuzz='^FuzzTrace$$' -fuzztime=$(FUZZTIME) ./lmtp/
	$(GO) test -run='^$$' -fuzz='^FuzzCRLF$$' -fuzztime=$(FUZZTIME) ./lmtp/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./managesieve/
	$(GO) test -run='^$$' -fuzz='^FuzzSession$$' -fuzztime=$(FUZZTIME) ./managesieve/
	$(GO) test -run='^$$' -fuzz='^FuzzMimeBody$$' -fuzztime=$(FUZZTIME) ./sieve/
	$(GO) test -run='^$$' -fuzz='^FuzzCompile$$' -fuzztime=$(FUZZTIME) ./sieve/
	$(GO) test -run='^$$' -fuzz='^FuzzASCIIUpper$$' -fuzztime=$(FUZZTIME) ./sieve/
	$(GO) test -run='^$$' -fuzz='^FuzzContainsKey$$' -fuzztime=$(FUZZTIME) ./sieve/
	$(GO) test -run='^$$' -fuzz='^FuzzCompareASCIIFold$$' -fuzztime=$(FUZZTIME) ./sieve/

# Profile-guided optimization: go build and go run use
# cmd/letterbox/default.pgo; this regenerates it from a mixed workload
# (LMTP, Sieve, IMAP, POP3) on this machine.
pgo:
	sh scripts/pgo-profile.sh cmd/letterbox/default.pgo

clean:
	rm -f letterbox
