# SPDX-License-Identifier: Apache-2.0
# berth: plain Makefile with pkg-config probes.
CC ?= cc
PKGS := libnl-3.0 libnl-route-3.0 libmnl libnftnl libseccomp libcjson sqlite3 libmicrohttpd libcurl zlib yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

CFLAGS ?= -O2 -g
CFLAGS += $(SAN_CFLAGS) -std=gnu11 -Wall -Wextra -Wmissing-prototypes -Wno-unused-parameter -Werror=implicit-function-declaration \
	  -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP -fno-strict-aliasing
LDLIBS := $(PKG_LIBS) -lpthread

BUILD := build
Q := $(if $(V),,@)
LIB_DIRS := common netlink nft store ipam drivers $(patsubst %/,%,$(wildcard drivers/*/)) dns runtime probe
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
DAEMON_SRCS := $(wildcard daemon/*.c plugins/docker/*.c)
CLI_SRCS := $(wildcard cli/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

all: $(BUILD)/berthd $(BUILD)/berth $(BUILD)/berth-cni $(BUILD)/berth-shim

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libberth.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/berthd: $(DAEMON_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/libberth.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# berth-shim (runtime/shim/main.c): the container and exec shims berthd executes (from its own
# directory; berthd re-executes itself when it is missing). Linked with only what the runtime
# uses, so a start does not map and relocate berthd's ~40 libraries.
SHIM_LIBS := -Wl,--as-needed $(shell pkg-config --libs libcjson libseccomp) -lpthread
$(BUILD)/berth-shim: $(BUILD)/runtime/shim/main.o $(BUILD)/libberth.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(SHIM_LIBS)

# The CLI speaks HTTP to berthd itself (cli/http_reply.c): it links only what its objects use
# (cJSON; libseccomp for `berth exec`), not libcurl and its TLS/LDAP/Kerberos stack, whose
# relocation cost more than the rest of a run (bench/cli/run.sh).
CLI_LIBS := -Wl,--as-needed $(shell pkg-config --libs libcjson libseccomp)
$(BUILD)/berth: $(CLI_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/libberth.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(CLI_LIBS)

# berth-cni (plugins/cni): a thin client of berthd, linked like the CLI (its HTTP client, cJSON).
CNI_SRCS := $(wildcard plugins/cni/*.c)
CNI_OBJS := $(CNI_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/cli/client.o $(BUILD)/cli/http_reply.o
$(BUILD)/berth-cni: $(CNI_OBJS) $(BUILD)/libberth.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -Wl,--as-needed $(shell pkg-config --libs libcjson)

# make install [DESTDIR=...] [PREFIX=/usr/local] [CNI_BIN_DIR=/opt/cni/bin]
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
CNI_BIN_DIR ?= /opt/cni/bin
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CNI_BIN_DIR)
	install -m 0755 $(BUILD)/berthd $(BUILD)/berth $(BUILD)/berth-shim $(DESTDIR)$(BINDIR)/
	install -m 0755 $(BUILD)/berth-cni $(DESTDIR)$(CNI_BIN_DIR)/

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/helpers/%: $(BUILD)/tests/helpers/%.o $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The spoofing helper is copied into containers: static, no berth library.
$(BUILD)/tests/helpers/spoof: tests/helpers/spoof.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $@ (static)")
	$(Q)$(CC) -static -O2 -Wall -Wextra -D_GNU_SOURCE -o $@ $<

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

helpers: $(HELPER_BINS)

# Fuzzing (tests/fuzz): one libFuzzer target per parser of untrusted bytes. `fuzz` runs each
# under ASan/UBSan for FUZZ_TIME seconds from its seed corpus, FUZZ_JOBS at a time (new inputs go
# to build/fuzz/corpus_<target>, not the tree; tests/fuzz/<target>.dict is used when present);
# `fuzz-replay` replays every corpus through a sanitized build of the same code linked with
# tests/fuzz/replay.c (no clang needed).
FUZZ_TIME ?= 20
FUZZ_JOBS ?= 2
FUZZ_TARGETS := dns_wire api_request cidr portspec http_response tar probe_policy cni_config \
	docker_plugin
FUZZ_COMMON := common/util.c common/error.c
FUZZ_SRCS_dns_wire := dns/wire.c dns/records.c dns/resolv.c common/cidr.c
FUZZ_SRCS_api_request := daemon/api_decode.c daemon/http_util.c
FUZZ_SRCS_cidr := common/cidr.c
FUZZ_SRCS_portspec := common/portspec.c common/cidr.c
FUZZ_SRCS_http_response := cli/http_reply.c
FUZZ_SRCS_tar := runtime/tar.c
FUZZ_SRCS_probe_policy := probe/policy.c probe/yaml.c probe/cells.c dns/wire.c common/cidr.c
FUZZ_SRCS_docker_plugin := plugins/docker/decode.c daemon/http_util.c common/cidr.c common/names.c \
	common/portspec.c
FUZZ_SRCS_cni_config := plugins/cni/config.c plugins/cni/result.c common/names.c common/cidr.c
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -I. $(shell pkg-config --cflags libcjson yaml-0.1)
FUZZ_LIBS := $(shell pkg-config --libs libcjson yaml-0.1)

.SECONDEXPANSION:
$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $$(FUZZ_SRCS_$$*) $(FUZZ_COMMON)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  FUZZ    $@")
	$(Q)$(CC) $(FUZZ_FLAGS) -DBERTH_FUZZ_REPLAY $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) $(FUZZ_COMMON)
	@mkdir -p $(dir $@)
	@command -v clang >/dev/null || { echo "clang is needed for fuzzing: scripts/install-deps.sh"; exit 1; }
	@$(if $(V),,echo "  FUZZ    $@")
	$(Q)clang $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)

fuzz-replay: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
	$(Q)for t in $(FUZZ_TARGETS); do echo "== $$t"; \
		$(BUILD)/fuzz/replay_$$t tests/fuzz/corpus/$$t || exit 1; done

fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	$(Q)$(MAKE) --no-print-directory -j$(FUZZ_JOBS) $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: $(BUILD)/fuzz/fuzz_%
	$(Q)mkdir -p $(BUILD)/fuzz/corpus_$*
	$(Q)$(BUILD)/fuzz/fuzz_$* -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
		-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$*- \
		$(addprefix -dict=,$(wildcard tests/fuzz/$*.dict)) \
		$(BUILD)/fuzz/corpus_$* tests/fuzz/corpus/$* >$(BUILD)/fuzz/$*.log 2>&1; rc=$$?; \
		echo "== fuzz_$*"; tail -6 $(BUILD)/fuzz/$*.log; \
		[ $$rc = 0 ] || { echo "fuzz_$* failed: see $(BUILD)/fuzz/$*.log"; exit 1; }

# ASan + UBSan: berthd, berth, the test helpers and the unit tests built into build-asan/ (-O1,
# a report halts the process); `system-asan` runs the system suite (or ASAN_TESTS) against them
# and fails on any sanitizer report of berthd, its shims or container inits, the CLI or a helper
# (scripts/system-asan.sh). Built with clang: gcc's UBSan runtime ignores log_path and prints to
# stderr, which is /dev/null in a shim.
ASAN_BUILD := build-asan
ASAN_CFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

asan:
	@command -v clang >/dev/null || { echo "clang is needed for make asan: scripts/install-deps.sh"; exit 1; }
	$(Q)$(MAKE) --no-print-directory CC=clang BUILD=$(ASAN_BUILD) SAN_CFLAGS="$(ASAN_CFLAGS)" \
		all helpers unit-bins

system-asan: asan
	scripts/system-asan.sh $(ASAN_TESTS)

# CI (scripts/test.sh) runs `make system` (fuzz corpora replayed, each target fuzzed for
# FUZZ_TIME s, the system suite), then `make system-asan` (the suite once more under ASan).
system: all helpers fuzz-replay fuzz
	tests/system/run.sh

# 4,000 containers on one bridge network (tests/scale/test_scale.sh; SCALE_N=... for another
# count). Not part of `check`: long (see README.md).
scale: all helpers
	bash tests/scale/test_scale.sh

# Everything: what `.ci/run` and the README's test command run.
check: all unit system system-asan

# Benchmarks (root; long at full size): every bench/*/run.sh, then docs/BENCHMARKS.md and the plots
# in docs/bench/ (bench/report.sh, bench/README.md). QUICK=1: small sizes; BENCHES="dns cli":
# only these (the other sections keep their last results).
bench: all helpers
	QUICK="$(QUICK)" BENCHES="$(BENCHES)" bench/report.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

.PHONY: all unit unit-bins system scale check clean helpers fuzz fuzz-replay asan system-asan install bench
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
