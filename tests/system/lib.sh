# SPDX-License-Identifier: Apache-2.0
# Shared helpers for system tests. Each test builds its own world: a network namespace that plays
# the host (berthd runs inside it), private --root/--run/--socket directories, and cleans up on
# exit even when it fails. Source it, call bt_setup, write checks with ok/ko/check, end with
# bt_summary.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BERTHD=${BERTHD:-$TOP/build/berthd}
BERTH=${BERTH:-$TOP/build/berth}
BT_ID=bt-$$-${RANDOM}
BT_NS=$BT_ID-h
BT_DIR=/tmp/$BT_ID
BT_PASS=0
BT_FAIL=0
BT_BERTHD_PID=
BT_EXTRA_NS=()

say() { printf '%s\n' "$*"; }
ok() { BT_PASS=$((BT_PASS + 1)); say "  ok   $*"; }
ko() { BT_FAIL=$((BT_FAIL + 1)); say "  FAIL $*"; }

# check "description" command... : passes when the command succeeds.
check() {
	local desc=$1; shift
	if "$@" >"$BT_DIR/last.out" 2>&1; then ok "$desc"; else ko "$desc"; sed 's/^/       | /' "$BT_DIR/last.out" | head -20; fi
}
# check_fail "description" command... : passes when the command fails.
check_fail() {
	local desc=$1; shift
	if "$@" >"$BT_DIR/last.out" 2>&1; then ko "$desc (unexpectedly succeeded)"; sed 's/^/       | /' "$BT_DIR/last.out" | head -20; else ok "$desc"; fi
}
# check_err "description" "expected stderr substring" command... : must fail, and say why.
check_err() {
	local desc=$1 want=$2; shift 2
	if "$@" >"$BT_DIR/last.out" 2>&1; then
		ko "$desc (unexpectedly succeeded)"
	elif grep -qiF -- "$want" "$BT_DIR/last.out"; then
		ok "$desc"
	else
		ko "$desc (error does not mention \"$want\")"; sed 's/^/       | /' "$BT_DIR/last.out" | head -5
	fi
}
# wait_for TIMEOUT_S command... : poll until the command succeeds (bounded; no fixed sleeps).
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

# Run a command in the host namespace (where berthd runs).
inhost() { nsenter --net=/run/netns/$BT_NS "$@"; }
berth() { "$BERTH" "$@"; }

bt_start_berthd() {
	rm -f "$BT_DIR/berth.sock"
	inhost "$BERTHD" --root "$BT_DIR/root" --run "$BT_DIR/run" --socket "$BT_DIR/berth.sock" \
		--log-level debug "$@" >>"$BT_DIR/berthd.log" 2>&1 &
	BT_BERTHD_PID=$!
	if ! wait_for 20 curl -sf --unix-socket "$BT_DIR/berth.sock" http://x/_ping; then
		say "berthd did not come up:"; tail -20 "$BT_DIR/berthd.log"; return 1
	fi
}

bt_stop_berthd() {
	[ -n "$BT_BERTHD_PID" ] || return 0
	kill -TERM "$BT_BERTHD_PID" 2>/dev/null
	wait "$BT_BERTHD_PID" 2>/dev/null
	BT_BERTHD_PID=
}

bt_kill9_berthd() {
	[ -n "$BT_BERTHD_PID" ] || return 0
	kill -KILL "$BT_BERTHD_PID" 2>/dev/null
	wait "$BT_BERTHD_PID" 2>/dev/null
	BT_BERTHD_PID=
}

# Kill every process whose network namespace is one of ours (containers, shims).
bt_kill_ns_procs() {
	local ns inode pid
	for ns in "$BT_DIR"/run/netns/* /run/netns/$BT_ID-*; do
		[ -e "$ns" ] || continue
		inode=$(stat -L -c %i "$ns" 2>/dev/null) || continue
		for pid in /proc/[0-9]*; do
			[ "$(stat -L -c %i "$pid/ns/net" 2>/dev/null)" = "$inode" ] && kill -KILL "${pid#/proc/}" 2>/dev/null
		done
	done
	pkill -KILL -f "__berth-shim.*$BT_ID" 2>/dev/null
	return 0
}

bt_cleanup() {
	local rc=$?
	if [ -n "$BT_BERTHD_PID" ] && [ -S "$BT_DIR/berth.sock" ]; then
		for c in $(timeout 10 "$BERTH" ps -aq 2>/dev/null); do timeout 20 "$BERTH" rm -f "$c" >/dev/null 2>&1; done
	fi
	bt_stop_berthd
	bt_kill_ns_procs
	for ns in "$BT_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$BT_ID-"); do ip netns del "$ns" 2>/dev/null; done
	umount -l "$BT_DIR/run/netns" 2>/dev/null
	if [ "${BT_KEEP:-0}" != 1 ]; then rm -rf "$BT_DIR"; fi
	exit $rc
}

# Create a namespace named $BT_ID-$1 with lo up.
bt_netns() { ip netns add "$BT_ID-$1" && nsenter --net=/run/netns/$BT_ID-$1 ip link set lo up; }

bt_setup() {
	mkdir -p "$BT_DIR"
	trap bt_cleanup EXIT
	trap 'exit 130' INT TERM
	bt_netns h || exit 1
	export BERTH_HOST=unix://$BT_DIR/berth.sock
	bt_start_berthd "$@" || { ko "berthd starts"; bt_summary; }
}

# Print the summary line the suite runner adds up, and exit accordingly.
bt_summary() {
	say "$BT_PASS passed, $BT_FAIL failed"
	[ "$BT_FAIL" -eq 0 ] && [ "$BT_PASS" -gt 0 ]
	exit $?
}

# Helpers over the API (jq).
# ctr_ip CONTAINER NETWORK [FIELD]: FIELD of the container's endpoint (default IPAddress).
ctr_ip() { berth inspect "$1" | jq -r --arg n "$2" --arg f "${3:-IPAddress}" '.[0].NetworkSettings.Networks[$n][$f]'; }
ctr_ip6() { ctr_ip "$1" "$2" GlobalIPv6Address; }
ctr_pid() { berth inspect "$1" | jq -r '.[0].State.Pid'; }
in_ctr() { berth exec "$@"; }

# Checks often run `bash -c "..."`: make the helpers and paths visible there too.
export BERTH BERTHD BT_NS BT_DIR BT_ID
export -f berth inhost wait_for ctr_ip ctr_ip6 ctr_pid in_ctr say
