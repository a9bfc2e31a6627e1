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

$(BUILD)/berth: $(CLI_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/libberth.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/helpers/%: $(BUILD)/tests/helpers/%.o $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

helpers: $(HELPER_BINS)

system: all helpers
	tests/system/run.sh

# Everything: what `.ci/run` and the README's test command run.
check: all unit system

clean:
	rm -rf $(BUILD)

.PHONY: all unit unit-bins system check clean helpers
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
