#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Checks on the source tree itself (no daemon, no privileges).
# Namespaces: only netlink/netns.c (netns_run and netns_create, on threads made for the job) and
# the container runtime's children (runtime/) change a thread's namespace. A thread that serves
# requests (the API's, the main loop, the DNS server) must never be moved: if its way back
# failed it would keep serving from inside a container. bench/ holds stand-alone measuring
# programs (one thread, no requests served), not berth: they may enter a namespace.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "  ok   $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }

# C sources and headers of the tree, relative to TOP (build output excluded).
sources() { (cd "$TOP" && find . -path ./build -prune -o -path ./.git -prune -o \
	-type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort); }

n=$(sources | wc -l)
if [ "$n" -gt 50 ]; then ok "$n C files found"; else ko "only $n C files found under $TOP"; fi

out=$(cd "$TOP" && sources | grep -v -e '^netlink/netns\.c$' -e '^runtime/' -e '^bench/' | xargs -r grep -n 'setns')
if [ -z "$out" ]; then
	ok "no setns outside netlink/netns.c, runtime/ and bench/"
else
	ko "setns outside netlink/netns.c, runtime/ and bench/:"; echo "$out" | sed 's/^/       | /'
fi

out=$(cd "$TOP" && sources | xargs -r grep -nw -e 'netns_enter' -e 'netns_leave')
if [ -z "$out" ]; then
	ok "no netns_enter/netns_leave (moving a caller's thread) anywhere"
else
	ko "netns_enter/netns_leave still used:"; echo "$out" | sed 's/^/       | /'
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
