# hookd - GNU Makefile (pkg-config, one static library shared by every binary).
#   make            build ./hookd
#   make run        install what is missing, build, start hookd on ./hookd-data (DB=... for PostgreSQL)
#   make run-pg     the same on a local PostgreSQL in ./hookd-pg (make stop-pg removes it)
#   make web        build the portal and console pages (web/, Vite) into build/web/
#   make browser    browser tests of those pages (tests/browser, Debian's chromium)
#   make test       install, build, run every test (format, unit, integration, browser, the
#                   same on PostgreSQL, ASan+UBSan)
#   make check-asan unit + integration tests under AddressSanitizer/UBSan
#   make test-pg    store unit tests + integration tests on a throwaway PostgreSQL
#   make bench      run bench/run.sh (see BENCHMARKS.md): throughput and CPU per message
#   make bench-scale   bench/scale.sh + bench/backlog.sh: 1M-message reads, backlog memory, restart
#   make bench-faulty  bench/faulty.sh: a healthy endpoint's latency beside 9 faulty ones
#   make bench-sign    bench/sign_schemes.c: CPU µs per signature for each signature scheme
#   make bench-transform  bench/transform_cost.c: CPU per jq transformation (BENCHMARKS.md)
#   make bench-cluster    bench/cluster.sh: SQLite vs PostgreSQL with 1-3 nodes, pgbench ceilings

VERSION := 0.1.0
PKGS := libmicrohttpd libcurl sqlite3 libpq jansson libcrypto
CC ?= cc
WARN := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wpedantic \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wformat=2 \
	-Wundef -Wwrite-strings -Wvla -Wimplicit-fallthrough -Wno-format-nonliteral -fno-common \
	-Wduplicated-cond -Wlogical-op
BASE_CFLAGS := $(WARN) -Isrc -DHOOKD_VERSION='"$(VERSION)"' -pthread
RELEASE_CFLAGS := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRCS := $(wildcard src/util/*.c src/core/*.c src/store/*.c src/store/*/*.c src/deliver/*.c src/service/*.c \
	src/http/*.c src/surface/*/*.c) src/config.c
MAIN_SRC := src/main.c
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# Dependencies are probed lazily so that `make deps` can run before they exist.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libjq (transformations): Debian 12's jq 1.6 ships no libjq.pc, jq 1.7 does.
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) \
	$(shell pkg-config --libs libjq 2>/dev/null || echo -ljq) -lm

.PHONY: all web browser deps run run-pg stop-pg test test-pg unit-pg integration-pg unit integration check-asan check-format format clean bench bench-deps bench-scale bench-backlog bench-faulty bench-spread bench-fanout bench-tenants bench-sign bench-transform bench-cluster fuzz
all: hookd web

# ---- dependencies ----------------------------------------------------------
APT_PKGS := build-essential pkg-config libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev \
	libjansson-dev libssl-dev libcmocka-dev libjq-dev libpq-dev postgresql clang-format nodejs npm curl chromium
deps:
	@./scripts/install-deps.sh $(APT_PKGS)

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# ---- the web pages (docs/web.md) --------------------------------------------
# One Vite build per page into build/web/<page>/, served by hookd under /<page>/.
WEB_SRCS := $(shell find web -type f 2>/dev/null)
web: build/web/.stamp
build/web/.stamp: $(WEB_SRCS) node_modules/.stamp
	PAGE=portal node_modules/.bin/vite build --config web/vite.config.mjs
	PAGE=console node_modules/.bin/vite build --config web/vite.config.mjs
	@touch $@

# ---- builds ----------------------------------------------------------------
define build_flavor
build/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	@echo "CC [$(1)] $$<"
	@$$(CC) $$(BASE_CFLAGS) $(2) $$(PKG_CFLAGS) -MMD -MP -c $$< -o $$@

build/$(1)/libhookd.a: $$(LIB_SRCS:%.c=build/$(1)/%.o)
	@rm -f $$@
	@ar rcs $$@ $$^

build/$(1)/hookd: build/$(1)/src/main.o build/$(1)/libhookd.a
	$$(CC) $(2) -pthread $(3) -o $$@ $$^ $$(PKG_LIBS)

build/$(1)/unit/%: build/$(1)/tests/unit/%.o build/$(1)/libhookd.a
	@mkdir -p $$(dir $$@)
	@$$(CC) $(2) -pthread -o $$@ $$^ $$(PKG_LIBS) -lcmocka

build/$(1)/fuzz-replay/%: tests/fuzz/%.c build/$(1)/libhookd.a
	@mkdir -p $$(dir $$@)
	@$$(CC) $$(BASE_CFLAGS) $(2) -DFUZZ_REPLAY $$(PKG_CFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef

comma := ,
$(eval $(call build_flavor,release,$(RELEASE_CFLAGS),-pie -Wl$(comma)-z$(comma)relro$(comma)-z$(comma)now))
$(eval $(call build_flavor,asan,$(ASAN_CFLAGS),))

-include $(shell find build -name '*.d' 2>/dev/null)

hookd: build/release/hookd
	cp $< $@.tmp && mv -f $@.tmp $@

UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=build/$(1)/unit/%)
FUZZ_REPLAYS = $(FUZZ_TARGETS:%=build/$(1)/fuzz-replay/%)

# ---- run and test ----------------------------------------------------------
# DB=postgres://... (or a libpq key=value string) runs it on that PostgreSQL database.
run: deps hookd web
	./hookd serve --allow-http --allow-private-networks $(if $(DB),--db '$(DB)')

# A local PostgreSQL in ./hookd-pg (started again if it exists), then hookd on it.
run-pg: deps hookd web
	@url=$$(./scripts/pg-throwaway.sh start $(CURDIR)/hookd-pg on) && echo "PostgreSQL: $$url/postgres" && \
		./hookd serve --allow-http --allow-private-networks --db "$$url/postgres"

stop-pg:
	./scripts/pg-throwaway.sh stop $(CURDIR)/hookd-pg

test: deps node_modules/.stamp
	$(MAKE) check-format
	$(MAKE) unit integration
	$(MAKE) browser
	$(MAKE) test-pg
	$(MAKE) check-asan

# The store unit tests and the whole integration suite again, on a throwaway
# PostgreSQL (scripts/with-pg.sh starts and removes it).
STORE_UNIT_BINS = $(filter build/$(1)/unit/test_store%,$(call UNIT_BINS,$(1)))
test-pg: hookd $(call UNIT_BINS,release) node_modules/.stamp
	./scripts/with-pg.sh $(MAKE) unit-pg integration-pg

unit-pg: $(call UNIT_BINS,release)
	@test -n "$$HOOKD_TEST_PG" || { echo "unit-pg: set HOOKD_TEST_PG (or run make test-pg)"; exit 2; }
	@set -e; for t in $(call STORE_UNIT_BINS,release); do echo "== $$t (PostgreSQL)"; $$t; done

integration-pg: hookd node_modules/.stamp
	@test -n "$$HOOKD_TEST_PG" || { echo "integration-pg: set HOOKD_TEST_PG (or run make test-pg)"; exit 2; }
	HOOKD_BIN=$(CURDIR)/hookd node --test --test-concurrency=2 tests/integration/

unit: $(call UNIT_BINS,release) $(call FUZZ_REPLAYS,release)
	@set -e; for t in $(call UNIT_BINS,release); do echo "== $$t"; $$t; done
	@set -e; for f in $(FUZZ_TARGETS); do echo "== fuzz corpus replay $$f"; \
		build/release/fuzz-replay/$$f tests/fuzz/corpus/$${f#fuzz_}/*; done

integration: hookd node_modules/.stamp
	HOOKD_BIN=$(CURDIR)/hookd node --test --test-concurrency=2 tests/integration/

# Playwright (playwright-core) drives Debian's chromium; screenshots go to build/screenshots/.
browser: hookd web node_modules/.stamp
	@./scripts/install-deps.sh chromium
	HOOKD_BIN=$(CURDIR)/hookd node --test --test-concurrency=1 tests/browser/

check-asan: build/asan/hookd $(call UNIT_BINS,asan) $(call FUZZ_REPLAYS,asan) node_modules/.stamp
	@set -e; for t in $(call UNIT_BINS,asan); do echo "== $$t (asan)"; $$t; done
	@set -e; for f in $(FUZZ_TARGETS); do echo "== fuzz corpus replay $$f (asan)"; \
		build/asan/fuzz-replay/$$f tests/fuzz/corpus/$${f#fuzz_}/*; done
	HOOKD_BIN=$(CURDIR)/build/asan/hookd HOOKD_ASAN=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		node --test --test-concurrency=2 tests/integration/

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

format:
	clang-format -i $(FORMAT_FILES)

# libFuzzer runs (clang): FUZZ_SECONDS each; new finds land in the corpus directory.
# tests/fuzz/<name>.dict, when present, is passed as the dictionary; FUZZ_FLAGS
# adds libFuzzer flags (e.g. FUZZ_FLAGS=-runs=10000000). See docs/internals/fuzzing.md.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
fuzz: build/asan/libhookd.a
	@set -e; for f in $(FUZZ_TARGETS); do \
		clang $(filter-out -Wduplicated-cond -Wlogical-op,$(BASE_CFLAGS)) -g -O1 \
			-fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -o build/$$f tests/fuzz/$$f.c \
			$(LIB_SRCS) $(PKG_LIBS); \
		dict=tests/fuzz/$${f#fuzz_}.dict; \
		build/$$f -max_total_time=$(FUZZ_SECONDS) $$([ -f $$dict ] && echo -dict=$$dict) \
			$(FUZZ_FLAGS) tests/fuzz/corpus/$${f#fuzz_}; done

bench-deps:
	@./scripts/install-deps.sh wrk nginx-light

bench: bench-deps hookd
	./bench/run.sh

# 1,000,000-message store: p50/p99 of /v1/logs, the DLQ and /v1/metrics (BENCHMARKS.md, Scale);
# then bench-backlog: RSS per pending message and restart -> first delivery with 1M pending
bench-scale: deps bench-deps hookd node_modules/.stamp
	./bench/scale.sh
	./bench/backlog.sh

bench-backlog: bench-deps hookd
	./bench/backlog.sh

# hookd on SQLite, on PostgreSQL with 1, 2 and 3 nodes, and pgbench ceilings (BENCHMARKS.md)
bench-cluster: bench-deps hookd
	./bench/cluster.sh

# CPU per send with the sends spread over 1 and 10,000 endpoints (BENCHMARKS.md)
bench-spread: bench-deps hookd node_modules/.stamp
	./bench/spread.sh

# a healthy endpoint's p99 send -> receipt alone and beside 9 faulty endpoints (BENCHMARKS.md)
bench-fanout: bench-deps hookd
	bench/fanout.sh

bench-tenants: bench-deps hookd node_modules/.stamp
	bench/tenants.sh

bench-faulty: hookd
	./bench/faulty.sh

# CPU µs per signature and per attempt's header list for each signature scheme (BENCHMARKS.md)
build/release/bench/sign_schemes: bench/sign_schemes.c build/release/libhookd.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(RELEASE_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS)

bench-sign: build/release/bench/sign_schemes
	$<

# CPU and latency per jq transformation through the helper pool (BENCHMARKS.md, Transformations)
build/release/bench/transform_cost: bench/transform_cost.c build/release/libhookd.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(RELEASE_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS)

bench-transform: build/release/bench/transform_cost
	$<

clean:
	rm -rf build hookd
.SECONDARY:
