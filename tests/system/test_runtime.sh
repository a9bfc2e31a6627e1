#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# System test of the container runtime (runtime/) through the rttest helper. Needs root.
# Everything lives in a private temp dir and a private network namespace, removed on exit.
#   RTTEST=path/to/rttest tests/system/test_runtime.sh
set -u

RTTEST=${RTTEST:-build/tests/helpers/rttest}
RTTEST=$(readlink -f "$RTTEST")
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: test_runtime.sh needs root"
	exit 77
fi
if [ ! -x "$RTTEST" ]; then
	echo "FAIL: $RTTEST not found (build it first)"
	exit 1
fi

TMP=$(mktemp -d /tmp/berth-rt-XXXXXX)
NS=bt-$$-rt
IMAGES=$TMP/images
PASS=0
FAIL=0
SKIP=0
CONTAINERS=() # "pid start"

cleanup() {
	for c in "${CONTAINERS[@]}"; do
		# shellcheck disable=SC2086
		"$RTTEST" kill $c 9 >/dev/null 2>&1
	done
	for c in "${CONTAINERS[@]}"; do
		wait_gone "${c% *}" || true
	done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

not() { ! "$@"; }
ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
ko() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
skip() { SKIP=$((SKIP + 1)); echo "SKIP - $1"; }   # counted and listed by run.sh
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else ko "$name"; fi
}

# poll with a bounded timeout (5 s)
wait_for() {
	for _ in $(seq 100); do
		if "$@"; then return 0; fi
		sleep 0.05
	done
	return 1
}
wait_gone() { wait_for test ! -e "/proc/$1"; }

# run_c NAME NETNS|- -- ARGV...: start container NAME, sets PID START, records it for cleanup
run_c() {
	local name=$1 netns=$2 out
	shift 3
	out=$("$RTTEST" start "rt-$$-$name" "$IMAGES" "$TMP/state/$name" "$TMP/run/$name" "$netns" \
		"$TMP/log/$name" -- "$@" 2>"$TMP/err.$name") || return 1
	read -r PID START <<<"$out"
	CONTAINERS+=("$PID $START")
}
# run_wait NAME NETNS -- ARGV...: start, wait for the exit code, LOG holds the output
run_wait() {
	local name=$1
	run_c "$@" || return 1
	wait_for test -e "$TMP/run/$name/exit" || return 1
	LOG=$(cat "$TMP/log/$name")
	CODE=$("$RTTEST" exit "$TMP/run/$name")
}
log_has() { grep -q -- "$1" <<<"$LOG"; }

mkdir -p "$TMP/log" "$TMP/state" "$TMP/run"
ip netns add "$NS" || { echo "FAIL: cannot create netns $NS"; exit 1; }
ip -n "$NS" link set lo up
NETNS=/run/netns/$NS

# ---- images ----
check "busybox image builds" "$RTTEST" image-busybox "$IMAGES"
check "busybox image build is idempotent" "$RTTEST" image-busybox "$IMAGES"
check "busybox applets are linked" test -L "$IMAGES/busybox/rootfs/bin/sh"
check "no temporary directory left" test -z "$(find "$IMAGES" -maxdepth 1 -name '.tmp-*')"
msg=$("$RTTEST" image-path "$IMAGES" nosuch 2>&1)
check "missing image names itself" grep -q 'image "nosuch" not found' <<<"$msg"
tar -C "$IMAGES/busybox/rootfs" -czf "$TMP/bb.tar.gz" .
check "import a tarball" "$RTTEST" image-import "$IMAGES" imported "$TMP/bb.tar.gz"
check "imported rootfs has busybox" test -x "$IMAGES/imported/rootfs/bin/busybox"
check "import of an existing name fails" not "$RTTEST" image-import "$IMAGES" imported "$TMP/bb.tar.gz" 2>/dev/null
check "remove an image" "$RTTEST" image-rm "$IMAGES" imported
check "removed image is gone" test ! -e "$IMAGES/imported"
# ---- a container doing many checks at once ----
probe='hostname; echo pid=$$; ls /; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status
ping -c1 -W2 localhost >/dev/null 2>&1 && echo ping=ok
ip link add x type bridge 2>/dev/null || echo bridge=denied
mount -t tmpfs x /mnt 2>/dev/null || echo mount=denied
unshare -U true 2>/dev/null || echo unshare=denied
touch /sys/x 2>/dev/null || echo sys=ro
echo data >/etc/written && echo write=ok
grep -q "^root:" /etc/passwd && echo passwd=ok
exit 7'
if run_wait probe "$NETNS" -- sh -c "$probe"; then
	ok "container starts and exits"
	check "hostname is set" log_has "^rt-$$-probe$"
	check "pid namespace: shell is pid 1" log_has "^pid=1$"
	check "rootfs is the image" log_has "^linuxrc$"
	check "CapEff is Docker's default set" log_has "CapEff:.*00000000a80425fb"
	check "no_new_privs" log_has "NoNewPrivs:.*1"
	check "seccomp filter active" log_has "Seccomp:.*2"
	check "name resolution works (NSS)" log_has "^ping=ok$"
	check "no NET_ADMIN" log_has "^bridge=denied$"
	check "mount refused" log_has "^mount=denied$"
	check "user namespaces refused" log_has "^unshare=denied$"
	check "/sys is read-only" log_has "^sys=ro$"
	check "writes succeed" log_has "^write=ok$"
	check "exit code 7 recorded" test "$CODE" = 7
	check "write kept in the upper layer" test -f "$TMP/state/probe/upper/etc/written"
	check "image left untouched" test ! -e "$IMAGES/busybox/rootfs/etc/written"
	check "pid 1 is gone" test "$("$RTTEST" alive "$PID" "$START")" = 0
else
	ko "container starts and exits: $(cat "$TMP/err.probe")"
fi

# ---- restart on the same writable layer ----
if run_wait probe "$NETNS" -- cat /etc/written; then
	check "restart keeps the writable layer" log_has "^data$"
else
	ko "restart on the same state dir"
fi

# ---- host network namespace: /sys falls back to a read-only bind when needed ----
if run_wait hostnet - -- sh -c 'ls /sys/class >/dev/null && touch /sys/x 2>/dev/null || echo sys=ro'; then
	check "shared netns: /sys present and read-only" log_has "^sys=ro$"
else
	ko "container in the caller's netns: $(cat "$TMP/err.hostnet")"
fi

# ---- SIGKILL ----
if run_c killed "$NETNS" -- sleep 1000; then
	check "running container is alive" test "$("$RTTEST" alive "$PID" "$START")" = 1
	check "alive rejects a wrong start time" test "$("$RTTEST" alive "$PID" 1)" = 0
	"$RTTEST" kill "$PID" "$START" 9
	wait_for test -e "$TMP/run/killed/exit"
	check "SIGKILL recorded as 137" test "$("$RTTEST" exit "$TMP/run/killed")" = 137
	check "killed container is gone" test "$("$RTTEST" alive "$PID" "$START")" = 0
	check "kill of a gone container succeeds" "$RTTEST" kill "$PID" "$START" 9
else
	ko "start sleep: $(cat "$TMP/err.killed")"
fi

# ---- exec ----
if run_c execd "$NETNS" -- sleep 1000; then
	out=$("$RTTEST" exec "$PID" -- hostname)
	check "exec runs in the uts namespace" test "$out" = "rt-$$-execd"
	"$RTTEST" exec "$PID" -- sh -c 'exit 5'
	check "exec returns the exit code" test $? = 5
	out=$("$RTTEST" exec "$PID" -- ps)
	check "exec sees the pid namespace" grep -qE '^ *1 .*sleep 1000' <<<"$out"
	out=$("$RTTEST" exec "$PID" -- grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status)
	check "exec has the same restrictions" \
		test "$(tr -s '\t\n' '  ' <<<"$out")" = "CapEff: 00000000a80425fb NoNewPrivs: 1 Seccomp: 2 "
	out=$("$RTTEST" exec "$PID" -- ls /)
	check "exec sees the container root" grep -q linuxrc <<<"$out"
	out=$("$RTTEST" exec "$PID" -- nosuch 2>&1)
	check "exec of a missing command fails clearly" \
		grep -q 'exec: "nosuch": executable file not found in $PATH' <<<"$out"
	"$RTTEST" kill "$PID" "$START" 9
	wait_for test -e "$TMP/run/execd/exit"
else
	ko "start sleep for exec: $(cat "$TMP/err.execd")"
fi

# ---- a command that does not exist ----
before=$(pgrep -fc "__berth-shim [0-9]+ rt-$$-")
if run_c missing "$NETNS" -- nosuch; then
	ko "missing command must fail"
else
	check "missing command: clear error" \
		grep -q 'exec: "nosuch": executable file not found in $PATH' "$TMP/err.missing"
	check "missing command: no shim left" \
		wait_for test "$(pgrep -fc "__berth-shim [0-9]+ rt-$$-")" = "$before"
	check "missing command: run dir cleaned" test ! -e "$TMP/run/missing/rootfs"
fi

# ---- a shim that never answers: the start gives up at the timeout and leaves nothing ----
# (BERTH_DELAY_AT makes the shim sleep 60 s before it reports the running container.)
before=$(pgrep -fc "__berth-shim [0-9]+ rt-$$-")
nap=$((100000 + $$))
t0=$(date +%s%N)
if BERTH_DELAY_AT=shim-handshake:60000 RTTEST_START_TIMEOUT_MS=500 \
	run_c silent "$NETNS" -- sleep "$nap"; then
	ko "a silent shim must fail the start"
else
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "silent shim: the start fails within the timeout ($ms ms < 3000)" test "$ms" -lt 3000
	check "silent shim: clear error" grep -q "did not report the start within 500 ms" "$TMP/err.silent"
	check "silent shim: the shim is killed" \
		wait_for test "$(pgrep -fc "__berth-shim [0-9]+ rt-$$-")" = "$before"
	check "silent shim: the container's process is killed" wait_for not pgrep -f "^sleep $nap\$"
	check "silent shim: run dir cleaned" test ! -e "$TMP/run/silent/rootfs" -a ! -e "$TMP/run/silent/shim.pid"
fi

# ---- limits (cgroup v2, or v1 memory/pids controllers) ----
if [ -w /sys/fs/cgroup ] || [ -d /sys/fs/cgroup/pids ]; then
	export RTTEST_PIDS_MAX=16 RTTEST_MEMORY_MAX=67108864
	if run_c limited "$NETNS" -- sleep 1000; then
		cg=$(grep -m1 pids: /proc/"$PID"/cgroup | cut -d: -f3)
		[ -n "$cg" ] || cg=$(grep -m1 '^0::' /proc/"$PID"/cgroup | cut -d: -f3)
		check "container is in a berth cgroup" test "$cg" = "/berth/rt-$$-limited"
		"$RTTEST" kill "$PID" "$START" 9
		wait_for test -e "$TMP/run/limited/exit"
		check "cgroup removed after exit" \
			wait_for test ! -e "/sys/fs/cgroup/pids/berth/rt-$$-limited" -a \
			! -e "/sys/fs/cgroup/berth/rt-$$-limited"
	else
		ko "start with limits: $(cat "$TMP/err.limited")"
	fi
	unset RTTEST_PIDS_MAX RTTEST_MEMORY_MAX
else
	skip "limits (2 checks): no writable cgroup hierarchy"
fi

# ---- cleanup ----
check "cleanup removes the run dir" "$RTTEST" cleanup "$TMP/run/probe"
check "run dir gone" test ! -e "$TMP/run/probe"
check "cleanup twice succeeds" "$RTTEST" cleanup "$TMP/run/probe"

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
