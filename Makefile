# linkbff — the commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
# Go 1.26.11 carries the standard-library security fixes govulncheck asks for. The go
# command fetches it from the module proxy on first use (about 76 MB, once per machine).
export GOTOOLCHAIN := go1.26.11
PKGS := ./...

.PHONY: run test check bench wrk fuzz soak generate build image docker-pin fmt tidy vet staticcheck vulncheck race gencheck speclint node-deps test-deps chromium frontend frontend-check

# The version linkbff reports (linkbff version, linkbff_build_info, the image labels).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)

## run: start linkbff with the embedded development tenant (no Auth0 account needed)
# The embedded tenant gets a fixed port here so the README's curl examples work.
run:
	DEVTENANT_ADDR=$${DEVTENANT_ADDR:-127.0.0.1:4000} $(GO) run ./cmd/linkbff

## build: build both binaries into bin/: linkbff as the image has it (without the embedded development tenant), and devtenant
build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags nodevtenant -ldflags="$(LDFLAGS)" -o bin/linkbff ./cmd/linkbff
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="$(LDFLAGS)" -o bin/devtenant ./cmd/devtenant

## image: build the container image linkbff:$(VERSION) (needs Docker and the registries)
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
		--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) -t linkbff:$(VERSION) .

## docker-pin: look up the current digests of the Dockerfile's base images and write them into it (needs Docker and the registries)
docker-pin:
	bash tools/docker-pin.sh Dockerfile

## node-deps: install the Node interop test's dependencies (tests/node) from its lockfile
node-deps:
	@if [ ! -f tests/node/package-lock.json ]; then :; \
	elif command -v npm >/dev/null; then npm ci --prefix tests/node --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the node-auth0 interop test will be skipped (CI=true fails it)"; fi

## chromium: install Debian's Chromium for the Lock browser test when it is missing (as root)
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "/usr/bin/chromium is missing: apt-get update -qq && apt-get install -y -qq chromium (about a minute)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
			&& echo "installed $$(/usr/bin/chromium --version 2>/dev/null)"; } \
			|| echo "installing chromium failed: the Lock browser test will be skipped (CI=true fails it)"; \
	else echo "/usr/bin/chromium is missing and only root can apt-get install chromium: the Lock browser test will be skipped (CI=true fails it)"; fi

## frontend: bundle Auth0 Lock from frontend/package-lock.json into frontend/static/vendor/auth0-lock.js
# The bundle is committed, so `go build` of a clean clone needs no Node; commit it after
# changing frontend/package.json, the lock file or frontend/lock-entry.js.
frontend:
	@command -v npm >/dev/null || { echo "make frontend needs Node.js 20+ and npm"; exit 1; }
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error
	npm run --prefix frontend --silent build

## frontend-check: rebuild the Lock bundle from the lock file in a temporary directory; fail if the committed one differs
frontend-check:
	@if ! command -v npm >/dev/null; then \
		if [ "$$CI" = true ]; then echo "frontend-check: npm not found (CI=true)"; exit 1; fi; \
		echo "npm not found: the committed Lock bundle was not checked against a fresh build"; exit 0; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp frontend/package.json frontend/package-lock.json frontend/lock-entry.js "$$tmp"/ \
		&& npm ci --prefix "$$tmp" --no-audit --no-fund --loglevel=error \
		&& npm run --prefix "$$tmp" --silent build || exit 1; \
	if ! cmp -s "$$tmp/static/vendor/auth0-lock.js" frontend/static/vendor/auth0-lock.js; then \
		echo "frontend/static/vendor/auth0-lock.js differs from a fresh build: run make frontend and commit it"; exit 1; fi; \
	if [ -n "$$(git status --porcelain -- frontend/static/vendor)" ]; then \
		echo "frontend/static/vendor has uncommitted changes: commit them"; git status --short -- frontend/static/vendor; exit 1; fi

## test-deps: everything the tests need besides Go
test-deps: node-deps chromium

## test: install what the tests need, then run every test
test: test-deps
	$(GO) test -count=1 $(PKGS)

## check: formatting, vet, staticcheck, govulncheck, generated-code and Lock-bundle drift, the spec lint, race tests
check: fmt tidy vet staticcheck vulncheck gencheck speclint frontend-check race

## tidy: go.mod and go.sum must be exactly what the imports need
tidy:
	$(GO) mod tidy -diff

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

## vulncheck: govulncheck against a local database built from golang.org/x/vulndb (no vuln.go.dev needed)
vulncheck:
	GO=$(GO) bash tools/vulndb.sh
	$(GO) tool govulncheck -db file://$(abspath .cache/vulndb) $(PKGS)

race: test-deps
	$(GO) test -race -count=1 $(PKGS)

## generate: regenerate api/ from openapi.yaml
generate:
	$(GO) generate ./api/...

## gencheck: fail if api/ differs from what openapi.yaml generates, or holds uncommitted files
gencheck: generate
	@git diff --exit-code -- api/ || { echo "api/ is stale: run make generate and commit"; exit 1; }
	@new=$$(git ls-files --others --exclude-standard -- api/); if [ -n "$$new" ]; then echo "api/ has files git does not track:"; echo "$$new"; echo "commit them or delete them"; exit 1; fi

## speclint: lint openapi.yaml with Redocly CLI (redocly.yaml: its recommended rules, warnings as errors), pinned by tools/speclint/package-lock.json
# Telemetry off: the lint then makes no network request.
speclint:
	@if ! command -v npm >/dev/null; then \
		if [ "$$CI" = true ]; then echo "speclint: npm not found (CI=true)"; exit 1; fi; \
		echo "npm not found: openapi.yaml was not linted (make test still checks its structure)"; exit 0; fi; \
	npm ci --prefix tools/speclint --no-audit --no-fund --loglevel=error \
		&& REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
			tools/speclint/node_modules/.bin/redocly lint --config redocly.yaml openapi.yaml

## fuzz: run every fuzz target (go test -fuzz) for FUZZTIME each (default 30s), one after another
# A target's seed corpus (f.Add and testdata/fuzz/) also runs in `make test`; a failing
# input is written to that package's testdata/fuzz/, where it becomes a regular test.
FUZZTIME ?= 30s
fuzz:
	@$(GO) test -list '^Fuzz' $(PKGS) | awk '/^Fuzz/ { t[n++] = $$1 } /^ok/ { for (i = 0; i < n; i++) print $$2, t[i]; n = 0 }' | { \
		failed=""; \
		while read -r pkg target; do \
			echo "== $$target in $$pkg for $(FUZZTIME)"; \
			$(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) "$$pkg" || failed="$$failed $$target"; \
		done; \
		if [ -n "$$failed" ]; then echo "fuzz: failing targets:$$failed"; exit 1; fi; }

## soak: SOAK_DURATION (default 3m) of mixed load on two -race replicas on Redis while the dev tenant injects faults; prints its figures
# Needs Redis at REDIS_URL (default redis://127.0.0.1:6379). docs/soak.md has the figures of a run.
SOAK_DURATION ?= 3m
SOAK_TIMEOUT ?= 30m
soak:
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test -race -count=1 -run='^TestSoak$$' -v -timeout=$(SOAK_TIMEOUT) ./cmd/linkbff
	@echo "soak: passed: no data race, no unexpected 5xx, no lost metadata, goroutines and heap back near their baseline"

## bench: every Go benchmark (bench/latest.txt, summarised by benchstat in bench/summary.txt), then the load run of make build's bin/linkbff against bin/devtenant with wrk (bench/load.txt); under 5 minutes; BENCHMARKS.md reads them
# The load run measures the build operators deploy (no embedded tenant), its tenant
# in a process of its own.
# A token's first request needs a token minted for it, two RSA signatures with the
# benchmark's timer paused; left to go test's 1s of timed work, that is a minute per
# count. BENCH_UNSEEN_N fixes how many such requests one count makes.
BENCH_UNSEEN_N ?= 400
bench: build wrk
	@mkdir -p bench
	set -o pipefail; $(GO) test -run='^$$' -bench=. -skip='HotPath/.*/distinct-tokens' -benchmem -count=5 -cpu=2 $(PKGS) | tee bench/latest.txt
	set -o pipefail; $(GO) test -run='^$$' -bench='HotPath/.*/distinct-tokens' -benchtime=$(BENCH_UNSEEN_N)x -benchmem -count=5 -cpu=2 ./cmd/linkbff | tee -a bench/latest.txt
	$(GO) tool benchstat -confidence 0.9 bench/latest.txt > bench/summary.txt
	set -o pipefail; ulimit -n 8192; $(GO) run ./tools/loadbench -linkbff bin/linkbff -devtenant bin/devtenant | tee bench/load.txt

## wrk: install Debian's wrk for the load run when it is missing (as root); without it loadbench uses its own Go load generator
wrk:
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "wrk is missing: apt-get update -qq && apt-get install -y -qq wrk"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
			|| echo "installing wrk failed: the load run uses its Go load generator"; \
	else echo "wrk is missing and only root can apt-get install it: the load run uses its Go load generator"; fi
