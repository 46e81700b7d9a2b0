# Build, test, install and demo for libopentok (the C-ABI client library)
# and otc-server (the signaling server).
#
#   make                 library + server + C examples (release build)
#   make test            every test: Rust (cargo test --workspace, which also
#                        checks the header is fresh), C tests against an
#                        installed copy, the SDK-style suite (layout against
#                        the Vonage SDK 2.32, a CMake + clang + libc++ program)
#   make test-csharp     the C# binding (bindings/csharp, Mono) against
#                        otc-server and the C chat example
#   make fuzz [FUZZ_SECONDS=300]  each fuzz target (fuzz/, cargo-fuzz) that
#                        long; make test runs each for 10 s (test-fuzz)
#   make demo [CLUSTER=1] [KEEP=1] two C chat clients talk through a local otc-server
#                        (with CLUSTER=1: two cluster nodes on a redis-server,
#                        alice on one and bob on the other)
#   make install PREFIX=DIR [DESTDIR=...]
#   make header          regenerate include/opentok.h (cbindgen, via build.rs)
#   make check-header    fail when the committed header is stale
#   make bench [QUICK=1] benchmarks beside a baseline relay, then against
#                        Socket.IO 4 (docs/performance.md)
#   make deb             Debian packages (libopentok0, libopentok-dev,
#                        otc-server) from the stripped dist profile, into build/deb
#   make lint            cargo fmt --check + clippy -D warnings
#   make clean
#
# Cargo's output goes to $CARGO_TARGET_DIR when it is set, else ./target.
# PROFILE=release (default) or PROFILE=debug selects the cargo profile used
# for the installed library, the server and the examples.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

CARGO   ?= cargo
CC      ?= cc
CXX     ?= c++
PREFIX  ?= /usr/local
DESTDIR ?=
PROFILE ?= release

# The one version number of the project, read from the workspace manifest.
VERSION := $(shell awk -F'"' '/^\[workspace\.package\]/ {w=1; next} /^\[/ {w=0} w && /^version[ \t]*=/ {print $$2; exit}' Cargo.toml)
VERSION_MAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME := libopentok.so.$(VERSION_MAJOR)

ifeq ($(VERSION),)
$(error could not read the version from Cargo.toml [workspace.package])
endif

ifneq ($(filter debug dev,$(PROFILE)),)
CARGO_PROFILE := dev
PROFILE_DIR   := debug
else
CARGO_PROFILE := $(PROFILE)
PROFILE_DIR   := $(PROFILE)
endif

TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))
OUT_DIR    := $(TARGET_DIR)/$(PROFILE_DIR)
SERVER_BIN := $(OUT_DIR)/otc-server
BUILD_DIR  := $(CURDIR)/build
# A private install used by the examples, the demo and the C tests.
STAGE      := $(BUILD_DIR)/stage-$(PROFILE_DIR)

export CARGO_TERM_COLOR ?= never

.PHONY: all lib server examples stage install install-lib install-server \
        test test-tools test-build test-rust test-c test-cluster test-sdk-style test-python test-node test-js test-browser test-pybind test-csharp test-fuzz test-bench-peer \
        check-header header \
        lint demo bench fuzz clean help deb test-deb

all: lib server examples

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

# --- building ---------------------------------------------------------------

# build.rs gives the shared object its SONAME ($(SONAME)) and an export
# list of otc_* only; scripts/c-tests.sh checks both on the installed copy.
lib:
	$(CARGO) build -p opentok --lib --profile $(CARGO_PROFILE)

server:
	$(CARGO) build -p otc-server --bin otc-server --profile $(CARGO_PROFILE)

header:
	$(CARGO) build -p opentok --lib
	@echo "include/opentok.h regenerated"

# build.rs rewrites include/opentok.h on every build of the library whose
# inputs changed, so a stale committed header shows up as a difference
# between the file before and after a build. (`cargo test` runs the same
# check in tests/ffi_header.rs; this target is for a quick look.)
check-header:
	@mkdir -p $(BUILD_DIR)
	@cp include/opentok.h $(BUILD_DIR)/opentok.h.before
	$(CARGO) build -p opentok --lib
	@if cmp -s $(BUILD_DIR)/opentok.h.before include/opentok.h; then \
		echo "check-header: include/opentok.h is up to date"; \
	else \
		diff -u $(BUILD_DIR)/opentok.h.before include/opentok.h | head -n 40; \
		echo "check-header: include/opentok.h was stale; the build regenerated it -- commit it" >&2; \
		exit 1; \
	fi

# A private copy of the installed layout, so the examples, the demo and the
# tests use exactly what `make install` gives users.
stage: lib server
	@$(MAKE) --no-print-directory install-lib install-server PREFIX=$(STAGE) DESTDIR= PROFILE=$(PROFILE) SKIP_BUILD=1

examples: stage
	@$(MAKE) --no-print-directory -C c-examples \
		OTC_CFLAGS="-I$(STAGE)/include" \
		OTC_LIBS="-L$(STAGE)/lib -lopentok -Wl,-rpath,$(STAGE)/lib" \
		OTC_HEADER=$(STAGE)/include/opentok.h

# Debian packages from the `dist` profile (release, stripped, thin LTO):
# installed into a staging tree with PREFIX=/usr, then cut into packages by
# scripts/make-deb.sh.
DEB_STAGE := $(BUILD_DIR)/deb-stage
DEB_DIR   := $(BUILD_DIR)/deb
deb:
	$(CARGO) build -p opentok --lib -p otc-server --bin otc-server --profile dist
	rm -rf $(DEB_STAGE) $(DEB_DIR)
	@$(MAKE) --no-print-directory install PREFIX=/usr DESTDIR=$(DEB_STAGE) PROFILE=dist SKIP_BUILD=1
	scripts/make-deb.sh $(DEB_STAGE) $(DEB_DIR) $(VERSION)

# Unpacks the packages and runs what they contain (scripts/deb-test.sh).
test-deb: deb
	scripts/deb-test.sh $(DEB_DIR) $(VERSION)

# --- installing -------------------------------------------------------------

install: install-lib install-server

INSTALL_LIB_DEPS := $(if $(SKIP_BUILD),,lib)
INSTALL_SERVER_DEPS := $(if $(SKIP_BUILD),,server)
# An absolute prefix, so that libopentok.pc points at the right place even
# for `make install PREFIX=dist`.
IPREFIX := $(abspath $(PREFIX))
LIBDIR_I := $(DESTDIR)$(IPREFIX)/lib

install-lib: $(INSTALL_LIB_DEPS)
	@test -f $(OUT_DIR)/libopentok.so || { echo "no $(OUT_DIR)/libopentok.so; run make lib" >&2; exit 1; }
	install -d $(DESTDIR)$(IPREFIX)/include $(LIBDIR_I)/pkgconfig
	install -p -m 644 include/opentok.h $(DESTDIR)$(IPREFIX)/include/opentok.h
	install -d $(DESTDIR)$(IPREFIX)/include/opentok
	install -p -m 644 include/opentok/*.h $(DESTDIR)$(IPREFIX)/include/opentok/
	install -m 755 $(OUT_DIR)/libopentok.so $(LIBDIR_I)/libopentok.so.$(VERSION)
	ln -sfn libopentok.so.$(VERSION) $(LIBDIR_I)/$(SONAME)
	ln -sfn $(SONAME) $(LIBDIR_I)/libopentok.so
	if [ -f $(OUT_DIR)/libopentok.a ]; then install -m 644 $(OUT_DIR)/libopentok.a $(LIBDIR_I)/libopentok.a; fi
	sed -e 's|@PREFIX@|$(IPREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
		libopentok.pc.in > $(LIBDIR_I)/pkgconfig/libopentok.pc
	chmod 644 $(LIBDIR_I)/pkgconfig/libopentok.pc

install-server: $(INSTALL_SERVER_DEPS)
	install -d $(DESTDIR)$(IPREFIX)/bin
	install -m 755 $(SERVER_BIN) $(DESTDIR)$(IPREFIX)/bin/otc-server

# --- testing ----------------------------------------------------------------

# Everything CI runs. Add further suites as prerequisites here.
# No incremental caches for a full test run: they are rebuilt from scratch
# on a clean clone anyway and took ~600 MB of disk.
test: export CARGO_INCREMENTAL = 0
test: test-tools test-build test-rust test-c test-cluster test-sdk-style test-python test-node test-js test-browser test-pybind test-csharp test-fuzz test-bench-peer test-deb
	@echo "make test: all suites passed"

# The debug library (libopentok.so, which tests/ffi_header.rs inspects; a
# plain `cargo test` builds only the rlib) and server the C suite installs.
TEST_PROFILE ?= debug
test-build:
	@$(MAKE) --no-print-directory lib server PROFILE=$(TEST_PROFILE)

# pkg-config and valgrind (and python3-venv for the Python suite, tinyproxy
# for the library's proxy tests, mono-mcs and mono-runtime for the C# binding) are installed when missing and possible; the C suite explains what is absent.
test-tools:
	@scripts/ensure-tools.sh

test-rust: test-build
	$(CARGO) test --workspace --no-fail-fast

# C programs built with `pkg-config --cflags --libs libopentok` against a
# fresh `make install` into a temporary prefix, run against a real server.
# They use the debug build (TEST_PROFILE): quicker to build than release,
# and what valgrind reads best.
test-c: test-build
	@rm -rf $(BUILD_DIR)/test-prefix
	@$(MAKE) --no-print-directory install PREFIX=$(BUILD_DIR)/test-prefix DESTDIR= PROFILE=$(TEST_PROFILE) SKIP_BUILD=1
	scripts/c-tests.sh $(BUILD_DIR)/test-prefix

# Three otc-server processes on one redis-server with C clients spread over
# them: a node killed with SIGKILL mid-run, Redis stopped and started again
# (scripts/cluster-tests.sh, tests/cluster/).
test-cluster: test-tools test-build
	@rm -rf $(BUILD_DIR)/cluster-prefix
	@$(MAKE) --no-print-directory install PREFIX=$(BUILD_DIR)/cluster-prefix DESTDIR= PROFILE=$(TEST_PROFILE) SKIP_BUILD=1
	scripts/cluster-tests.sh $(BUILD_DIR)/cluster-prefix

# Code written for the Vonage Linux SDK 2.32, against a fresh install in a
# prefix of its own: each per-file header alone, the layout of every SDK
# struct and enum (tests/sdk/layout_check.c as C99 with gcc and as C++14
# with clang++ -stdlib=libc++), and a program built like the SDK's samples
# (tests/sdk/cmake: CMake, found through LIBOPENTOK_PATH and through
# pkg-config) run against otc-server. Needs cmake, clang and libc++
# (test-tools installs them).
test-sdk-style: test-tools test-build
	@rm -rf $(BUILD_DIR)/sdk-style-prefix
	@$(MAKE) --no-print-directory install PREFIX=$(BUILD_DIR)/sdk-style-prefix DESTDIR= PROFILE=$(TEST_PROFILE) SKIP_BUILD=1
	scripts/sdk-style-tests.sh $(BUILD_DIR)/sdk-style-prefix

# The official OpenTok server SDK (pinned, from PyPI, in a venv the script
# makes) against a running otc-server and the C chat example.
test-python:
	PROFILE=$(TEST_PROFILE) bash tests/python/run.sh

# The official OpenTok Node server SDK (pinned, from npm, installed by the
# script into tests/node/node_modules) against a running otc-server and the
# C chat example, under Node's built-in test runner.
test-node:
	PROFILE=$(TEST_PROFILE) bash tests/node/run.sh

# The JavaScript client (clients/js: TypeScript, built with tsc from the
# pinned package-lock.json) under Node's test runner, against the debug
# otc-server: the API, validation codes, reconnection through a cut proxy.
test-js: test-tools test-build
	OTC_SERVER_BIN=$(TARGET_DIR)/$(if $(filter debug dev,$(TEST_PROFILE)),debug,$(TEST_PROFILE))/otc-server bash clients/js/run-tests.sh

# Headless Chromium (Debian's, driven by puppeteer-core pinned in
# tests/browser/package-lock.json) against otc-server --console and the C
# chat client: the JavaScript client in a real browser (signals both ways,
# REST signals, connection events, a cut link resumed) and the console page.
test-browser: test-tools test-build
	OTC_SERVER_BIN=$(TARGET_DIR)/$(if $(filter debug dev,$(TEST_PROFILE)),debug,$(TEST_PROFILE))/otc-server bash tests/browser/run.sh

# The Python binding (bindings/python: ctypes over libopentok.so, pip
# installed into a venv with pytest pinned) against the debug otc-server,
# the debug library and the C chat example in the same sessions.
test-pybind: test-tools test-build
	@$(MAKE) --no-print-directory examples PROFILE=$(TEST_PROFILE)
	OTC_CHAT_REQUIRED=1 LIBOPENTOK=$(TARGET_DIR)/$(if $(filter debug dev,$(TEST_PROFILE)),debug,$(TEST_PROFILE))/libopentok.so \
		OTC_SERVER_BIN=$(TARGET_DIR)/$(if $(filter debug dev,$(TEST_PROFILE)),debug,$(TEST_PROFILE))/otc-server \
		OTC_CHAT_BIN=$(CURDIR)/c-examples/bin/chat bash bindings/python/run-tests.sh

# The C# binding (bindings/csharp: P/Invoke over libopentok.so, the Windows
# SDK's signaling API), compiled with Mono's mcs and run with mono (Debian's
# mono-mcs and mono-runtime, which test-tools installs) against the debug
# otc-server, the debug library and the C chat example in the same sessions;
# README.md's C# snippet is compiled and run too.
test-csharp: test-tools test-build
	@$(MAKE) --no-print-directory examples PROFILE=$(TEST_PROFILE)
	LIBOPENTOK=$(TARGET_DIR)/$(if $(filter debug dev,$(TEST_PROFILE)),debug,$(TEST_PROFILE))/libopentok.so \
		OTC_SERVER_BIN=$(TARGET_DIR)/$(if $(filter debug dev,$(TEST_PROFILE)),debug,$(TEST_PROFILE))/otc-server \
		OTC_CHAT_BIN=$(CURDIR)/c-examples/bin/chat bash bindings/csharp/run-tests.sh

# The Socket.IO peer of make bench, tiny (loadgen.mjs --smoke, no timing
# asserted): every scenario against the debug otc-server and the Socket.IO 4
# server, every message checked to arrive exactly once and in order and every
# send answered. npm ci's bench/socketio's pinned packages when missing.
test-bench-peer: test-tools test-build
	OTC_SERVER_BIN=$(TARGET_DIR)/$(if $(filter debug dev,$(TEST_PROFILE)),debug,$(TEST_PROFILE))/otc-server \
		scripts/bench-socketio.sh --smoke

# Fuzzing (cargo-fuzz with the nightly toolchain; scripts/fuzz.sh installs
# cargo-fuzz when it is missing). Every target of fuzz/ runs on a temporary
# copy of its seeds; a crash fails the run and names the input. make test
# runs a bounded pass; make fuzz a longer one.
FUZZ_SECONDS ?= 300
TEST_FUZZ_SECONDS ?= 10

test-fuzz:
	scripts/fuzz.sh $(TEST_FUZZ_SECONDS)

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# --- benchmarks -------------------------------------------------------------

# make bench [QUICK=1]: every scenario beside a minimal tokio-tungstenite
# relay measured in the same run (not part of make test). Prints a table and
# writes $(TARGET_DIR)/bench/results.json. Then the same otc-server against a
# Socket.IO 4 server, both driven by one Node load generator
# (scripts/bench-socketio.sh, bench/socketio/): a second table, and
# $(TARGET_DIR)/bench/socketio.json. See docs/performance.md.
bench:
	$(CARGO) build --release -p otc-server -p otc-bench
	$(TARGET_DIR)/release/otc-bench $(if $(QUICK),--quick) --out $(TARGET_DIR)/bench/results.json
	OTC_SERVER_BIN=$(TARGET_DIR)/release/otc-server OUT=$(TARGET_DIR)/bench/socketio.json \
		scripts/bench-socketio.sh $(if $(QUICK),--quick)

# --- demo -------------------------------------------------------------------

# CLUSTER=1: the same on two cluster nodes and a redis-server (installed by
# scripts/ensure-tools.sh when missing).
CLUSTER ?= 0
demo: all
	@if [ "$(CLUSTER)" = 1 ]; then scripts/ensure-tools.sh; fi
	OTC_PREFIX=$(STAGE) CLUSTER=$(CLUSTER) KEEP=$(KEEP) scripts/demo.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD_DIR)
	@$(MAKE) --no-print-directory -C c-examples clean
