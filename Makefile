# polyarch: a daemonless, rootless builder of multi-architecture OCI images.

GO        ?= go
TAGS      ?= containers_image_openpgp exclude_graphdriver_btrfs osusergo netgo
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   ?= -s -w -X main.version=$(VERSION) -linkmode external -extldflags -static
FIXTURES  ?= $(CURDIR)/tests/.fixtures
GOTEST    ?= $(GO) test -tags "$(TAGS)" -count=1

export CGO_ENABLED = 1

.PHONY: all build test unit e2e fixtures bench vet fmt clean

all: build

build: bin/polyarch

bin/polyarch: $(shell find . -name '*.go' -not -path './tests/*') go.mod go.sum
	$(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $@ ./cmd/polyarch

fixtures:
	tests/fixtures/make-bases.sh $(FIXTURES)

unit:
	$(GOTEST) -timeout 10m ./builder/... ./emulation/... ./index/... ./cmd/...

e2e: build fixtures
	POLYARCH_BIN=$(CURDIR)/bin/polyarch POLYARCH_FIXTURES=$(FIXTURES) \
		$(GOTEST) -timeout 40m -v ./tests/e2e/...

test: unit e2e

bench: build fixtures
	POLYARCH_BIN=$(CURDIR)/bin/polyarch POLYARCH_FIXTURES=$(FIXTURES) tests/bench/run.sh

vet:
	$(GO) vet -tags "$(TAGS)" ./...

fmt:
	gofmt -l -w .

clean:
	rm -rf bin $(FIXTURES)
