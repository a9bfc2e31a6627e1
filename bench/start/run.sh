#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Container start and network benchmark (issue 13): whole-process time of
#   `berth run --rm --network N busybox true` (create, start, attach, run, wait, remove),
#   `berth network create` and `berth network rm`,
# then berthd's restart with RESTART_N running containers on one network: the time from exec to
# the first answered request, whether every container is adopted, and the packets a ping lost
# that ran across the restart. berthd runs in a namespace named bb-<pid>-bh, removed on exit.
# Needs root.
#
#   bench/start/run.sh   env: RUNS=100 WARMUP=5 RESTART_N=1000 (0: no restart part)
#                             RESULTS=/tmp/berth-bench-start (raw samples in µs, berthd's log)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
TOP=$BB_TOP
RUNS=${RUNS:-100}
WARMUP=${WARMUP:-5}
RESTART_N=${RESTART_N:-1000}
RESULTS=${RESULTS:-/tmp/berth-bench-start}
BERTHD=${BERTHD:-$TOP/build/berthd}
BERTH=${BERTH:-$TOP/build/berth}
SOCK=$BB_DIR/berth.sock
BERTHD_PID=
export BERTH_HOST=unix://$SOCK

berthd_start() {
	nsenter --net="/run/netns/$BB_ID-bh" "$BERTHD" --root "$BB_DIR/berth" --run "$BB_DIR/run" \
		--socket "$SOCK" --log-level info >> "$BB_DIR/berthd.log" 2>&1 &
	BERTHD_PID=$!
}

berthd_wait_up() {
	local deadline=$((SECONDS + 60))
	until curl -sf --unix-socket "$SOCK" http://x/_ping > /dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && { tail -20 "$BB_DIR/berthd.log"; bb_die "berthd did not come up"; }
		kill -0 "$BERTHD_PID" 2>/dev/null || { tail -20 "$BB_DIR/berthd.log"; bb_die "berthd exited"; }
	done
}

cleanup() {
	local rc=$? ns
	if [ -n "$BERTHD_PID" ] && [ -S "$SOCK" ]; then
		"$BERTH" ps -aq 2>/dev/null | xargs -r -n100 "$BERTH" rm -f > /dev/null 2>&1
	fi
	bb_berthd_stop
	for ns in "$BB_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	umount -l "$BB_DIR/run/netns" 2>/dev/null
	bb_cleanup_netns
	cp -f "$BB_DIR/berthd.log" "$RESULTS/" 2>/dev/null
	rm -rf "$BB_DIR"
	exit $rc
}

# timed FILE command...: append the command's whole-process time in µs to FILE.
timed() {
	local f=$1 t0 t1; shift
	t0=$EPOCHREALTIME
	"$@" > /dev/null || bb_die "failed: $*"
	t1=$EPOCHREALTIME
	echo $(($(bb_us "$t1") - $(bb_us "$t0"))) >> "$f"
}

report() { # label file
	local p50 p99 n
	read -r p50 p99 n < <(bb_pct "$2")
	bb_say "$(printf '  %-46s p50 %8s ms   p99 %8s ms   (n=%s)' "$1" "$p50" "$p99" "$n")"
}

bench_run_rm() {
	local i
	for i in $(seq "$WARMUP"); do "$BERTH" run --rm --network bench busybox true || bb_die "run failed"; done
	: > "$RESULTS/run_rm"
	for i in $(seq "$RUNS"); do timed "$RESULTS/run_rm" "$BERTH" run --rm --network bench busybox true; done
	report "berth run --rm --network bench busybox true" "$RESULTS/run_rm"
}

bench_networks() {
	local i
	: > "$RESULTS/net_create.all"; : > "$RESULTS/net_rm.all"
	for i in $(seq "$((RUNS + WARMUP))"); do
		timed "$RESULTS/net_create.all" "$BERTH" network create --subnet "10.210.$((i % 250)).0/24" "n$i"
		timed "$RESULTS/net_rm.all" "$BERTH" network rm "n$i"
	done
	tail -n +$((WARMUP + 1)) "$RESULTS/net_create.all" > "$RESULTS/net_create"
	tail -n +$((WARMUP + 1)) "$RESULTS/net_rm.all" > "$RESULTS/net_rm"
	report "berth network create --subnet ... nX" "$RESULTS/net_create"
	report "berth network rm nX" "$RESULTS/net_rm"
}

bench_restart() {
	local i t0 t1 n pingpid target id
	[ "$RESTART_N" -gt 0 ] || return 0
	bb_say "  starting $RESTART_N containers on network many ..."
	"$BERTH" network create --subnet 10.211.0.0/16 many > /dev/null || bb_die "network many"
	seq "$RESTART_N" | xargs -P2 -I{} "$BERTH" run -d --name m{} --network many busybox sleep 1d > /dev/null ||
		bb_die "starting containers"
	target=$("$BERTH" inspect m2 | jq -r '.[0].NetworkSettings.Networks.many.IPAddress')
	# ping m2 from m1's namespace every 10 ms across the restart (the host's busybox, entered
	# directly: `berth exec` needs berthd), running before berthd stops
	id=$("$BERTH" inspect m1 | jq -r '.[0].Id')
	nsenter --net="$BB_DIR/run/netns/$id" busybox ping -i 0.01 -w 20 "$target" > "$RESULTS/restart_ping" 2>&1 &
	pingpid=$!
	until grep -q "bytes from" "$RESULTS/restart_ping"; do
		kill -0 "$pingpid" 2>/dev/null || bb_die "ping from m1 to m2 failed"
	done
	read -r _ rss _ < <(grep VmRSS "/proc/$BERTHD_PID/status")
	bb_berthd_stop
	t0=$EPOCHREALTIME
	berthd_start
	berthd_wait_up
	t1=$EPOCHREALTIME
	n=$("$BERTH" ps -q | wc -l)
	wait "$pingpid"
	bb_say "  berthd RSS before the restart, $RESTART_N containers running: $((rss / 1024)) MiB ($rss KiB)"
	bb_say "  restart with $RESTART_N running containers: first answer $(( ($(bb_us "$t1") - $(bb_us "$t0")) / 1000 )) ms" \
		"after exec; $n of $RESTART_N running after it"
	bb_say "  ping across the restart: $(grep -E 'packets transmitted' "$RESULTS/restart_ping")"
}

trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$BB_DIR" "$RESULTS"
[ -x "$BERTHD" ] && [ -x "$BERTH" ] || make -C "$TOP" -j2 all > /dev/null || bb_die "could not build berth"
bb_netns bh || bb_die "cannot create namespace"
bb_machine
berthd_start
berthd_wait_up
"$BERTH" network create --subnet 10.209.0.0/24 bench > /dev/null || bb_die "network bench"
bb_say "Whole-process times (fork+exec of the CLI to its exit), $RUNS runs after $WARMUP warm-up:"
bench_run_rm
bench_networks
bench_restart
