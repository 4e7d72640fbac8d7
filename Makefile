# polyarch: a daemonless, rootless builder of multi-architecture OCI images.

# Go is taken from PATH, else from /usr/local/go, where the README says to put it.
export PATH := $(PATH):/usr/local/go/bin
GO        ?= go
TAGS      ?= containers_image_openpgp exclude_graphdriver_btrfs osusergo netgo
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   ?= -s -w -X main.version=$(VERSION) -linkmode external -extldflags -static
FIXTURES  ?= $(CURDIR)/tests/.fixtures
export POLYARCH_FIXTURE_CACHE ?= $(HOME)/.cache/polyarch-fixtures
TESTENV   = POLYARCH_BIN=$(CURDIR)/bin/polyarch POLYARCH_FIXTURES=$(FIXTURES) POLYARCH_FIXTURE_ROOTFS=$(POLYARCH_FIXTURE_CACHE)/rootfs
GOTEST    ?= $(GO) test -tags "$(TAGS)" -count=1

export CGO_ENABLED = 1

.PHONY: all build test unit fuzz e2e e2e-rootless fixtures bench vet fmt clean demo docs

all: build

build: bin/polyarch

bin/polyarch: $(shell find . -name '*.go' -not -path './tests/*') go.mod go.sum
	$(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $@ ./cmd/polyarch

fixtures:
	tests/fixtures/make-bases.sh $(FIXTURES)

unit: fixtures
	$(TESTENV) $(GOTEST) -timeout 10m ./builder/... ./emulation/... ./index/... ./session/... ./verify/... ./cmd/...

# fuzz runs every fuzz target for FUZZTIME each (go test -fuzz takes one
# target at a time): platform parsing, index decoding, the ELF header reader.
# Their packages import no storage or registry code, so the instrumented
# build stays short.
FUZZTIME ?= 10s
FUZZ      = ./emulation:FuzzParsePlatform ./verify/check:FuzzDecodeIndex ./verify/check:FuzzReadELFHeader
fuzz: fixtures
	@set -e; for t in $(FUZZ); do \
		echo "fuzz $${t#*:} ($${t%%:*}, $(FUZZTIME))"; \
		$(TESTENV) $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) $${t%%:*}; \
	done

e2e: build fixtures
	$(TESTENV) $(GOTEST) -timeout 40m -v ./tests/e2e/...

# e2e-rootless runs the same suite again as an unprivileged user (needs root
# to create that user; it is how rootless CI runners use polyarch).
e2e-rootless: build fixtures
	POLYARCH_FIXTURES=$(FIXTURES) tests/e2e/rootless.sh

# test needs root (it starts registries, mounts, creates a test user); a
# sudoer's `make test` runs itself again through sudo.
test:
ifeq ($(shell id -u),0)
	$(MAKE) unit fuzz e2e e2e-rootless
else
	sudo env "PATH=$(PATH)" $(MAKE) test
endif

bench: build fixtures
	$(TESTENV) tests/bench/run.sh

docs:
	UPDATE_DOCS=1 $(GOTEST) -run TestCLIReferenceUpToDate ./cmd/polyarch

vet:
	$(GO) vet -tags "$(TAGS)" ./...

fmt:
	gofmt -l -w .

clean:
	rm -rf bin $(FIXTURES)

# demo builds contrib/examples/hello for three platforms from the offline
# busybox base into local storage and ./hello-oci.
demo: build fixtures
	rm -rf .demo && cp -a contrib/examples/hello .demo && cp $(FIXTURES)/busybox-oci.tar .demo/
	bin/polyarch build --platform linux/amd64,linux/arm64,linux/s390x \
		--build-arg BASE=oci-archive:busybox-oci.tar \
		-t localhost/hello:1 -o type=oci,dest=./hello-oci .demo
	skopeo inspect --raw oci:./hello-oci:1
