# Thin wrapper over Meson for the two README commands.
#   make demo   install what is missing, build, show the sandbox at work
#   make test   install what is missing, build, run every test (unit + e2e,
#               root and unprivileged, plus the unit tests under ASan/UBSan,
#               plus srt inside podman containers)
BUILD ?= build
ASAN_BUILD ?= build-asan
HOOKS_BUILD ?= build-hooks
PYTEST = /usr/bin/python3 -m pytest
SHELL = /bin/bash

.PHONY: all deps build demo test unit e2e nons containers asan fuzz fuzz-smoke bench clean

all: build

deps:
	./scripts/install-deps.sh test

build:
	./scripts/install-deps.sh build
	[ -d $(BUILD) ] || meson setup $(BUILD)
	ninja -C $(BUILD)

demo: build
	./scripts/demo.sh $(BUILD)/srt

test: deps build unit asan fuzz-smoke e2e nons containers

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

asan:
	# gcc reports false format-overflow errors under the sanitizers
	# loop_budget=2: every "come back later" path of the proxy is taken constantly;
	# landlock_max_abi=5: no Landlock signal scoping, so the signal tests show that
	# the sandbox's own process group holds alone;
	# test_hooks: the pause points tests/e2e/test_harden_mounts.py swaps paths at
	[ -d $(ASAN_BUILD) ] || meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-Wno-format-overflow -Dloop_budget=2 -Dlandlock_max_abi=5 -Dtest_hooks=true
	meson configure $(ASAN_BUILD) -Dtest_hooks=true -Dlandlock_max_abi=5
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1 \
		SRT_BIN=$(CURDIR)/$(ASAN_BUILD)/srt $(PYTEST) -q tests/e2e/test_cli.py \
		tests/e2e/test_filesystem.py tests/e2e/test_process.py tests/e2e/test_harden_signals.py \
		tests/e2e/test_harden_mounts.py
	# the proxies under ASan/LSan too (not the resident-memory figures,
	# which the sanitizers inflate)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
		SRT_BIN=$(CURDIR)/$(ASAN_BUILD)/srt $(PYTEST) -q tests/e2e/test_network.py \
		tests/e2e/test_library.py tests/e2e/test_control_fd.py tests/e2e/test_ignore_violations.py \
		tests/e2e/test_parent_proxy.py tests/e2e/test_http_semantics.py tests/e2e/test_proxy_edges.py \
		-k "not memory_idle"

e2e: build
	SRT_BIN=$(CURDIR)/$(BUILD)/srt $(PYTEST) -q tests/e2e --ignore=tests/e2e/test_nons.py

# the no-namespace mode on this host: a test build (-Dtest_hooks=true), where
# SRT_TEST_NO_USERNS=1 stands for a host without user namespaces
nons:
	[ -d $(HOOKS_BUILD) ] || meson setup $(HOOKS_BUILD) -Dtest_hooks=true
	ninja -C $(HOOKS_BUILD)
	SRT_BIN=$(CURDIR)/$(HOOKS_BUILD)/srt $(PYTEST) -q tests/e2e/test_nons.py
	SRT_BIN=$(CURDIR)/$(HOOKS_BUILD)/srt $(PYTEST) -q tests/e2e/test_parent_proxy.py -k no_namespace
	# the proxy's inactivity timeout at 1 s (SRT_TEST_PROXY_TIMEOUT_MS, a test-hooks knob)
	SRT_BIN=$(CURDIR)/$(HOOKS_BUILD)/srt $(PYTEST) -q tests/e2e/test_http_semantics.py -k "timeout or silent"
	# the creation gate off (SRT_TEST_NO_FSGATE, a test-hooks knob): the stand-ins
	# and private git directories that the modes without the gate still use
	SRT_TEST_NO_FSGATE=1 SRT_BIN=$(CURDIR)/$(HOOKS_BUILD)/srt $(PYTEST) -q tests/e2e/test_git_fresh.py \
		tests/e2e/test_filesystem.py tests/e2e/test_harden_state.py tests/e2e/test_harden_scale.py \
		tests/e2e/test_harden_git.py

# srt inside rootful podman (runc), three profiles (tests/containers/README.md)
containers: build
	SRT_BIN=$(CURDIR)/$(BUILD)/srt $(PYTEST) -q tests/containers

fuzz:
	[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzz=true
	ninja -C build-fuzz

# every parser of untrusted input, 10 s each from its seed corpus
# (fuzz/README.md: the targets, their coverage, longer runs)
FUZZ_SECONDS ?= 10
FUZZ_TARGETS = config domain http socks netpolicy guard gitconfig control gitsanitize upstream fsgate
fuzz-smoke: fuzz
	for f in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$f && \
		./build-fuzz/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			build-fuzz/corpus-$$f fuzz/corpus/$$f 2>&1 | grep -E "stat::number_of_executed_units|ERROR|SUMMARY" ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# Benchmarks (not part of `make test`): start-up, throughput, request rate,
# memory, policy lookup, side by side with the reference srt and bwrap.
bench: build
	./scripts/install-deps.sh bench
	./bench/install-reference.sh >/dev/null
	./bench/run-all.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
