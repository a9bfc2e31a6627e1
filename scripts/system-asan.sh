#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The system suite (or the tests named) against the ASan + UBSan build in build-asan/ (`make
# asan`), then the unit tests of that build. Fails when a test fails or when any process wrote a
# sanitizer report. Must run as root, like the suite.
#
# Every report goes to a file under build-asan/reports (log_path), never to stderr: the shims
# berthd runs (build-asan/berth-shim __berth-shim) have stdio on /dev/null, and berthd's own
# stderr is a test's berthd.log, which the test removes. The path is absolute and resolves in
# every process we build: berthd and its shims run in the host's mount namespace; a container
# init (a fork of the shim) sees it until pivot_root, and a report after pivot_root, when the
# file cannot be opened, makes the sanitizer print "Can't open file" to the container's log and
# kill the init (halt), so the container start fails and so does the test.
#
# LeakSanitizer is on. It checks at exit(): berthd (SIGTERM at the end of each test), berth, the
# helpers and the unit tests. Shims and inits end in _exit() or exec, so they are not checked
# (there is nothing left to free in a process image that is about to vanish).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
asan=$top/build-asan
reports=$asan/reports
[ -x "$asan/berthd" ] || { echo "build-asan/berthd is missing: make asan"; exit 1; }
rm -rf "$reports"
mkdir -p "$reports"

san="log_path=$reports/report:halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="$san:detect_leaks=1"
export BT_ASAN=1   # tests that measure berthd's memory know it is ASan's allocator
export UBSAN_OPTIONS="$san"
export LSAN_OPTIONS="suppressions=$top/tests/system/lsan.supp:print_suppressions=0"
export BERTHD=$asan/berthd BERTH=$asan/berth BERTH_CNI=$asan/berth-cni
export NLTEST=$asan/tests/helpers/nltest RTTEST=$asan/tests/helpers/rttest
export APITEST=$asan/tests/helpers/apitest DNS_PROBE=$asan/tests/helpers/dns_probe
export FAKEDNS=$asan/tests/helpers/fakedns SPOOF=$asan/tests/helpers/spoof

# A script that fails under load is rerun once by run.sh, as in the normal run; the reports of
# the first run stay in $reports all the same.
tests/system/run.sh "$@"
rc=$?
if [ $# -eq 0 ]; then
	for t in "$asan"/tests/test_*; do
		"$t" >"$reports.unit.log" 2>&1 || { echo "FAIL: $t"; cat "$reports.unit.log"; rc=1; }
	done
fi

# Container inits open their report file ahead (runtime/init.c): empty ones are no report.
find "$reports" -type f -empty -delete
n=$(find "$reports" -type f | wc -l)
if [ "$n" -gt 0 ]; then
	echo
	echo "sanitizer reports: $n (in $reports)"
	for f in "$reports"/*; do
		echo "=== $f"; head -40 "$f"
	done
	rc=1
else
	echo "sanitizers: no report"
fi
exit $rc
