# SPDX-License-Identifier: Apache-2.0
# berth: plain Makefile with pkg-config probes.
CC ?= cc
PKGS := libnl-3.0 libnl-route-3.0 libmnl libnftnl libseccomp libcjson sqlite3 libmicrohttpd libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wmissing-prototypes -Wno-unused-parameter -Werror=implicit-function-declaration \
	  -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP -fno-strict-aliasing
LDLIBS := $(PKG_LIBS) -lpthread

BUILD := build
Q := $(if $(V),,@)
LIB_DIRS := common netlink nft store ipam drivers $(patsubst %/,%,$(wildcard drivers/*/)) dns runtime
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
DAEMON_SRCS := $(wildcard daemon/*.c)
CLI_SRCS := $(wildcard cli/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

all: $(BUILD)/berthd $(BUILD)/berth

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

# The CLI speaks HTTP to berthd itself (cli/http_reply.c): it links only what its objects use
# (cJSON; libseccomp for `berth exec`), not libcurl and its TLS/LDAP/Kerberos stack, whose
# relocation cost more than the rest of a run (bench/cli/run.sh).
CLI_LIBS := -Wl,--as-needed $(shell pkg-config --libs libcjson libseccomp)
$(BUILD)/berth: $(CLI_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/libberth.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(CLI_LIBS)

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

# Fuzzing (tests/fuzz): `fuzz` runs libFuzzer under ASan/UBSan for FUZZ_TIME seconds from the
# seed corpus (new inputs go to build/fuzz/, not the tree); `fuzz-replay` replays the corpus
# through a sanitized build of the same target, no clang needed.
FUZZ_TIME ?= 30
FUZZ_SRCS := dns/wire.c dns/records.c dns/resolv.c common/util.c common/error.c common/cidr.c
FUZZ_TARGETS := dns_wire
# cli/: the HTTP reply parser of the CLI (its seed corpus: tests/fuzz/corpus/http_response).
FUZZ_TARGETS += http_response
$(BUILD)/fuzz/replay_http_response $(BUILD)/fuzz/fuzz_http_response: cli/http_reply.c
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  FUZZ    $@")
	$(Q)$(CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -DBERTH_FUZZ_REPLAY -I. $(FUZZ_SAN) -o $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS)
	@mkdir -p $(dir $@)
	@command -v clang >/dev/null || { echo "clang is needed for fuzzing: scripts/install-deps.sh"; exit 1; }
	@$(if $(V),,echo "  FUZZ    $@")
	$(Q)clang -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $^

fuzz-replay: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
	$(Q)for t in $(FUZZ_TARGETS); do $(BUILD)/fuzz/replay_$$t tests/fuzz/corpus/$$t || exit 1; done

fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	$(Q)for t in $(FUZZ_TARGETS); do mkdir -p $(BUILD)/fuzz/corpus_$$t && \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
		-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus_$$t \
		tests/fuzz/corpus/$$t >$(BUILD)/fuzz/$$t.log 2>&1; rc=$$?; tail -6 $(BUILD)/fuzz/$$t.log; \
		[ $$rc = 0 ] || { echo "fuzz_$$t failed: see $(BUILD)/fuzz/$$t.log"; exit 1; }; done

# CI (scripts/test.sh runs `make system`) replays the fuzz corpus and fuzzes for FUZZ_TIME s.
system: all helpers fuzz-replay fuzz
	tests/system/run.sh

# Everything: what `.ci/run` and the README's test command run.
check: all unit system

clean:
	rm -rf $(BUILD)

.PHONY: all unit unit-bins system check clean helpers fuzz fuzz-replay
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
