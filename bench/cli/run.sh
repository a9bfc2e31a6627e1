#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CLI benchmark: whole-process time of `berth --help` and of `berth network ls` (berthd with a
# few networks), next to an empty C program (the floor of a process start on this machine, in
# the same run), the same empty program linked with libcurl, and `netavark --version`; then
# `berth network connect`/`disconnect` end to end (CLI process + request), next to netavark's
# setup/teardown of one container (bench/attach/peers.sh, bridge, 1 other container) and to
# berthd's own time for the same requests (its debug log). Everything runs in namespaces named
# bb-<pid>-*, removed on exit. Needs root.
#
#   bench/cli/run.sh     env: RUNS=500 WARMUP=30 ROUNDS=10 CYCLES=100 NETWORKS=5
#                             QUICK=1 (100 runs, 20 cycles)
#                             BERTH_BASELINE=path (another berth binary timed next to this one,
#                             e.g. one built before a change); NETAVARK=0 skips netavark;
#                             RESULTS=/tmp/berth-bench-cli (raw samples in µs, berthd's log; kept)
#                             BENCH_OUT=dir: machine-readable results (bench/README.md)
# Process times come from hyperfine (-N: fork+exec, no shell) when it is installed
# (BERTH_BENCH_DEPS=1 scripts/install-deps.sh), else from a bash loop around fork+exec
# ($EPOCHREALTIME): either way the empty program is timed the same way, and is the reference.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
TOP=$BB_TOP

if [ "${QUICK:-0}" = 1 ]; then
	RUNS=${RUNS:-100} CYCLES=${CYCLES:-20}
else
	RUNS=${RUNS:-500} CYCLES=${CYCLES:-100}
fi
WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-10}
NETWORKS=${NETWORKS:-5}
RESULTS=${RESULTS:-/tmp/berth-bench-cli}
BERTHD=${BERTHD:-$TOP/build/berthd}
BERTH=${BERTH:-$TOP/build/berth}
BASELINE=${BERTH_BASELINE:-}
NV=/usr/lib/podman/netavark
SOCK=$BB_DIR/berth.sock
BERTHD_PID=
T_START=$SECONDS
export BERTH_HOST=unix://$SOCK

[ "$(id -u)" = 0 ] || bb_die "run as root (it creates network namespaces)"
[ -x "$BERTHD" ] && [ -x "$BERTH" ] || bb_die "build first: make all"

cleanup() {
	local rc=$? ns
	if [ -n "$BERTHD_PID" ] && [ -S "$SOCK" ]; then
		for c in $(timeout 10 "$BERTH" ps -aq 2>/dev/null); do
			timeout 20 "$BERTH" rm -f "$c" > /dev/null 2>&1
		done
	fi
	if [ -n "$BERTHD_PID" ]; then
		kill -TERM "$BERTHD_PID" 2>/dev/null
		wait "$BERTHD_PID" 2>/dev/null
	fi
	for ns in "$BB_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	umount -l "$BB_DIR/run/netns" 2>/dev/null
	bb_cleanup_netns
	[ -f "$BB_DIR/berthd.log" ] && cp -f "$BB_DIR/berthd.log" "$RESULTS/" 2>/dev/null
	rm -rf "$BB_DIR"
	exit $rc
}

# ---------- process start ----------
build_refs() {
	printf 'int main(void) { return 0; }\n' > "$BB_DIR/empty.c"
	gcc -O2 -o "$BB_DIR/empty" "$BB_DIR/empty.c" || bb_die "cannot build the empty program"
	# --no-as-needed: the libraries are loaded although nothing of them is used
	gcc -O2 -o "$BB_DIR/empty-curl" "$BB_DIR/empty.c" -Wl,--no-as-needed -lcurl 2> /dev/null ||
		rm -f "$BB_DIR/empty-curl"
}

PROC_NAMES=() PROC_CMDS=()
# add_proc NAME command...: a process to time (samples in $RESULTS/NAME, µs).
add_proc() {
	local name=$1; shift
	PROC_NAMES+=("$name")
	PROC_CMDS+=("$(printf '%q ' "$@")")
}

# sample NAME COMMAND RUNS WARMUP: append RUNS samples of the whole process to $RESULTS/NAME.
sample() {
	local i t0 t1
	if command -v hyperfine > /dev/null; then
		hyperfine -N --warmup "$4" --runs "$3" --export-json "$BB_DIR/sample.json" "$2" \
			> /dev/null 2>&1 || bb_die "hyperfine failed on: $2"
		jq -r '.results[0].times[] | . * 1000000 | floor' "$BB_DIR/sample.json" >> "$RESULTS/$1"
		return
	fi
	for ((i = 0; i < $4; i++)); do eval "$2" > /dev/null 2>&1; done
	for ((i = 0; i < $3; i++)); do
		t0=$EPOCHREALTIME
		eval "$2" > /dev/null 2>&1
		t1=$EPOCHREALTIME
		echo $(($(bb_us "$t1") - $(bb_us "$t0"))) >> "$RESULTS/$1"
	done
}

# time_procs: RUNS samples of each process, in ROUNDS rounds that take turns (so that a change
# of the machine's load falls on every process alike); then its CPU time (perf stat task-clock,
# mean of RUNS) when perf works here.
time_procs() {
	local r i per=$(((RUNS + ROUNDS - 1) / ROUNDS)) warm=$((WARMUP / ROUNDS + 1))
	for i in "${!PROC_NAMES[@]}"; do : > "$RESULTS/${PROC_NAMES[i]}"; done
	for ((r = 0; r < ROUNDS; r++)); do
		for i in "${!PROC_NAMES[@]}"; do sample "${PROC_NAMES[i]}" "${PROC_CMDS[i]}" "$per" "$warm"; done
	done
	perf stat -r 2 -x, -e task-clock true > /dev/null 2>&1 || return 0
	for i in "${!PROC_NAMES[@]}"; do
		eval "perf stat -r $RUNS -x, -e task-clock -- ${PROC_CMDS[i]}" 2>&1 > /dev/null |
			awk -F, '/task-clock/ {printf "%.3f\n", $1; exit}' > "$RESULTS/${PROC_NAMES[i]}.cpu"
	done
}

# loader_cycles binary args...: the dynamic loader's start-up time, in CPU cycles.
loader_cycles() {
	LD_DEBUG=statistics "$@" 2>&1 > /dev/null |
		awk '/total startup time in dynamic loader/ {print $(NF - 1); exit}'
}

needed_libs() { readelf -d "$1" | awk '/NEEDED/ {gsub(/[][]/, "", $NF); printf "%s ", $NF}'; }

# ---------- berthd ----------
start_berthd() {
	local deadline=$((SECONDS + 20)) i
	bb_netns bh || bb_die "cannot create namespace"
	nsenter --net="/run/netns/$BB_ID-bh" "$BERTHD" --root "$BB_DIR/berth" --run "$BB_DIR/run" \
		--socket "$SOCK" --log-level debug > "$BB_DIR/berthd.log" 2>&1 &
	BERTHD_PID=$!
	until "$BERTH" version > /dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && { tail -20 "$BB_DIR/berthd.log"; bb_die "berthd did not come up"; }
		kill -0 "$BERTHD_PID" 2>/dev/null || { tail -20 "$BB_DIR/berthd.log"; bb_die "berthd exited"; }
		sleep 0.05
	done
	for i in $(seq 1 "$NETWORKS"); do
		"$BERTH" network create --subnet "10.81.$i.0/24" "net$i" > /dev/null ||
			bb_die "cannot create network net$i"
	done
	"$BERTH" network create --subnet 10.80.0.0/16 bench > /dev/null &&
		"$BERTH" network create --subnet 10.79.0.0/24 side > /dev/null &&
		"$BERTH" run -d --name target --network side busybox sleep 1d > /dev/null &&
		"$BERTH" run -d --name other --network bench busybox sleep 1d > /dev/null ||
		bb_die "cannot set up the connect benchmark (networks bench, side; containers target, other)"
}

# connect_cycles BERTH TAG: one timed connect+disconnect of target to bench, each the whole
# `berth network connect|disconnect` process (bash fork+exec to exit, like peers.sh).
connect_cycles() {
	local b=$1 tag=$2 op t0 t1
	for op in connect disconnect; do
		t0=$EPOCHREALTIME
		"$b" network $op bench target > /dev/null || bb_die "$op failed"
		t1=$EPOCHREALTIME
		echo $(($(bb_us "$t1") - $(bb_us "$t0"))) >> "$RESULTS/$tag.$op"
	done
}

# connect_bench: CYCLES connect+disconnect cycles of each binary, taking turns; berthd's own
# durations of berth's requests from its log.
connect_bench() {
	local i l0 b tags=(berth) bins=("$BERTH") op
	[ -n "$BASELINE" ] && tags+=(base) && bins+=("$BASELINE")
	for ((i = 0; i < WARMUP / 5 + 1; i++)); do
		for b in "${bins[@]}"; do
			"$b" network connect bench target > /dev/null &&
				"$b" network disconnect bench target > /dev/null || bb_die "connect/disconnect failed"
		done
	done
	for b in "${tags[@]}"; do : > "$RESULTS/$b.connect"; : > "$RESULTS/$b.disconnect"; done
	l0=$(($(wc -l < "$BB_DIR/berthd.log") + 1))
	for ((i = 0; i < CYCLES; i++)); do
		for b in "${!tags[@]}"; do connect_cycles "${bins[b]}" "${tags[b]}"; done
	done
	[ -n "$BASELINE" ] && return 0   # the log does not tell which binary sent a request
	for op in connect disconnect; do
		sed -n "$l0,\$p" "$BB_DIR/berthd.log" |
			awk -v op=$op '$0 ~ "POST /networks/bench/" op " 200" {sub("us", "", $NF); print $NF}' \
			> "$RESULTS/berth-srv.$op"
	done
}

run_netavark() {
	if [ "${NETAVARK:-1}" = 0 ]; then
		bb_say "  netavark: skipped (NETAVARK=0)"
		return
	fi
	if [ ! -x "$NV" ] || ! command -v iptables > /dev/null; then   # netavark 1.4 runs iptables
		bb_say "  netavark: skipped (netavark or iptables missing: BERTH_BENCH_DEPS=1 scripts/install-deps.sh)"
		return
	fi
	local i
	for i in 0 1 2; do ip netns add "$BB_ID-c$i" || bb_die "cannot create namespace"; done
	bb_netns nv || bb_die "cannot create namespace"
	bb_in nv bash "$TOP/bench/attach/peers.sh" netavark "$BB_DIR/nv" "$BB_ID-c" 2 "$CYCLES" 5 \
		"$RESULTS/netavark" > /dev/null || bb_die "netavark phase failed"
}

# ---------- report ----------
row() { # label file [ref-file]
	local p50 p99 n ratio="" cpu=""
	[ -s "$2" ] || return 0
	read -r p50 p99 n < <(bb_pct "$2")
	[ -n "${3:-}" ] && [ -s "$3" ] && ratio="$(bb_calc "$p50 / $(bb_p50 "$3")")x"
	[ -s "$2.cpu" ] && cpu=$(cat "$2.cpu")
	printf '| %-52s | %7s | %7s | %4s | %8s | %7s |\n' "$1" "$p50" "$p99" "$n" "$ratio" "$cpu"
	bb_res row "$TABLE_ID" "$1" "$p50" "$p99" "$n" "$ratio" "$cpu"
}

header() { # title ratio-heading table-id
	TABLE_ID=$3
	bb_res table "$3" "$1" "what" "p50 ms" "p99 ms" "n" "$2" "cpu ms"
	printf '| %-52s | %7s | %7s | %4s | %8s | %7s |\n' "$1" "p50 ms" "p99 ms" "n" "$2" "cpu ms"
	printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------------------------" \
		"---------" "---------" "------" "----------" "---------"
}

table() {
	local e=$RESULTS/empty
	header "whole process" "/ empty" proc
	row "empty C program (the floor)" "$e" "$e"
	row "empty C program linked with -lcurl" "$RESULTS/empty-curl" "$e"
	row "netavark --version" "$RESULTS/netavark-version" "$e"
	row "**berth --help**" "$RESULTS/berth-help" "$e"
	row "**berth network ls** ($NETWORKS+2 networks)" "$RESULTS/berth-ls" "$e"
	row "baseline berth --help" "$RESULTS/base-help" "$e"
	row "baseline berth network ls" "$RESULTS/base-ls" "$e"
	echo
	header "end to end (bash fork+exec to exit)" "/ berth" e2e
	for op in connect disconnect; do
		local ref=$RESULTS/berth.$op
		row "**berth network $op**" "$ref" "$ref"
		row "  (berthd's own time for the same requests)" "$RESULTS/berth-srv.$op" "$ref"
		row "baseline berth network $op" "$RESULTS/base.$op" "$ref"
		row "netavark $([ $op = connect ] && echo setup || echo teardown), 1 other container" \
			"$RESULTS/netavark.n1.$([ $op = connect ] && echo attach || echo detach)" "$ref"
	done
}

verdict() { # description condition
	local v=MISS
	if eval "$2"; then v=PASS; fi
	printf '%-4s  %s\n' "$v" "$1"
	bb_res verdict "$v" "$1"
}

summary() {
	local ls help empty conn nv
	ls=$(bb_p50 "$RESULTS/berth-ls"); help=$(bb_p50 "$RESULTS/berth-help")
	empty=$(bb_p50 "$RESULTS/empty"); conn=$(bb_p50 "$RESULTS/berth.connect")
	bb_say ""
	bb_say "Targets:"
	verdict "berth network ls whole process <= 1.5 ms: $ls ms (empty program $empty ms; berth - empty = $(bb_calc "$ls - $empty") ms)" \
		"bb_le $ls 1.5"
	verdict "berth --help whole process <= 1.5 ms: $help ms" "bb_le $help 1.5"
	[ -s "$RESULTS/berth-ls.cpu" ] && [ -s "$RESULTS/empty.cpu" ] &&
		bb_say "      CPU time (perf stat task-clock, mean): berth network ls $(cat "$RESULTS/berth-ls.cpu") ms," \
			"berth --help $(cat "$RESULTS/berth-help.cpu") ms, empty program $(cat "$RESULTS/empty.cpu") ms"
	if [ -s "$RESULTS/netavark.n1.attach" ]; then
		nv=$(bb_p50 "$RESULTS/netavark.n1.attach")
		verdict "berth network connect end to end <= 1/5 of netavark setup: $conn ms vs $(bb_calc "$nv / 5") ms (netavark/berth = $(bb_calc "$nv / $conn")x)" \
			"bb_le $conn $(bb_calc "$nv / 5")"
	fi
	bb_say ""
	bb_say "Raw samples (µs) and berthd's log: $RESULTS"
}

# ---------- main ----------
mkdir -p "$BB_DIR" || bb_die "cannot create $BB_DIR"
bb_results_dir "$RESULTS"
rm -f "$RESULTS"/{empty,empty-curl,netavark*,berth*,base*,table.md,summary.txt}
trap cleanup EXIT
trap 'exit 130' INT TERM
build_refs
bb_say "# CLI benchmark: $RUNS runs (+$WARMUP warm-up) per process, $CYCLES connect/disconnect cycles"
bb_say "# $(bb_machine)"
bb_say "# timing: $(command -v hyperfine > /dev/null && hyperfine --version || echo "bash loop (no hyperfine)")"
bb_say "# berth: $BERTH links: $(needed_libs "$BERTH")"
[ -n "$BASELINE" ] && bb_say "# baseline: $BASELINE links: $(needed_libs "$BASELINE")"
bb_say "# dynamic loader start-up (LD_DEBUG=statistics, CPU cycles): empty $(loader_cycles "$BB_DIR/empty")," \
	"berth --help $(loader_cycles "$BERTH" --help)$([ -n "$BASELINE" ] && echo ", baseline $(loader_cycles "$BASELINE" --help)")"
start_berthd
bb_say "  timing process starts"
add_proc empty "$BB_DIR/empty"
[ -x "$BB_DIR/empty-curl" ] && add_proc empty-curl "$BB_DIR/empty-curl"
[ -x "$NV" ] && add_proc netavark-version "$NV" --version
add_proc berth-help "$BERTH" --help
add_proc berth-ls "$BERTH" network ls
if [ -n "$BASELINE" ]; then
	add_proc base-help "$BASELINE" --help
	add_proc base-ls "$BASELINE" network ls
fi
time_procs
bb_say "  timing connect/disconnect ($CYCLES cycles)"
connect_bench
run_netavark
bb_say ""
bb_res title "CLI start-up and end to end"
bb_res note "$(bb_machine). Whole-process times: $RUNS runs per process in $ROUNDS rounds taking turns ($(command -v hyperfine > /dev/null && echo "hyperfine -N" || echo "bash loop around fork+exec")); cpu ms: \`perf stat\` task-clock. End to end: \`berth network connect|disconnect\` as a process, $CYCLES cycles, next to netavark's setup/teardown of one container (1 other on the network) and berthd's own time for the same requests."
table > "$RESULTS/table.md"       # not in a pipe: bb_res writes from it
summary > "$RESULTS/summary.txt"
cat "$RESULTS/table.md" "$RESULTS/summary.txt"
bb_res glance "\`berth network ls\` $(bb_r1 "$(bb_p50 "$RESULTS/berth-ls")") ms as a whole process (an empty C program $(bb_r1 "$(bb_p50 "$RESULTS/empty")") ms); \`berth network connect\` end to end $(bb_r1 "$(bb_p50 "$RESULTS/berth.connect")") ms$([ -s "$RESULTS/netavark.n1.attach" ] && echo " (netavark setup $(bb_r1 "$(bb_p50 "$RESULTS/netavark.n1.attach")") ms)")"
bb_say "(whole run: $((SECONDS - T_START)) s)"
