# SPDX-License-Identifier: Apache-2.0
# Shared helpers for benchmarks under bench/. Source it. Every benchmark builds its own world in
# network namespaces named bb-<pid>-*, and removes them on exit (bb_cleanup_netns).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

BB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) # the repository
BB_ID=bb-$$
BB_DIR=/tmp/$BB_ID
# berthd writes CNI configuration lists here, never into the machine's /etc/cni/net.d
export BERTH_CNI_CONFIG_DIR=$BB_DIR/cni

bb_say() { printf '%s\n' "$*"; }
bb_die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# bb_us EPOCHREALTIME -> integer microseconds
bb_us() { local t=${1/./}; echo $((10#$t)); }

# bb_netns NAME: create namespace $BB_ID-NAME with lo up.
bb_netns() {
	ip netns add "$BB_ID-$1" || return 1
	nsenter --net="/run/netns/$BB_ID-$1" ip link set lo up
}

# bb_in NAME command...: run a command inside namespace $BB_ID-NAME.
bb_in() { local ns=$1; shift; nsenter --net="/run/netns/$BB_ID-$ns" "$@"; }

# Delete every namespace of this run.
bb_cleanup_netns() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$BB_ID-"); do
		ip netns del "$ns" 2>/dev/null
	done
}

# bb_pct FILE: "p50 p99 n" in milliseconds of the microsecond samples in FILE.
# p50 is the median (mean of the two middle samples when n is even); p99 is nearest-rank.
bb_pct() {
	sort -n "$1" | awk '{a[NR] = $1}
		END {
			if (NR == 0) { print "nan nan 0"; exit }
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			k = int(0.99 * NR); if (k < 0.99 * NR) k++
			printf "%.3f %.3f %d\n", m / 1000, a[k] / 1000, NR
		}'
}

# bb_p50 FILE: the median in milliseconds.
bb_p50() { bb_pct "$1" | awk '{print $1}'; }

# bb_calc EXPR: floating point arithmetic with awk (e.g. bb_calc "3.2 / 1.1").
bb_calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# bb_r1 X: X rounded to one decimal ("-" stays "-").
bb_r1() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.1f", v }'; }

# bb_le A B: true when A <= B (floats).
bb_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# bb_machine: one line describing the machine.
bb_machine() {
	printf 'kernel %s, %s, %s cpus, load %s\n' "$(uname -r)" \
		"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
}

# bb_rss_kib PID: VmRSS of a process in KiB.
bb_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Machine-readable results for bench/report.sh (the format is in bench/README.md): with
# BENCH_OUT set, bb_res KIND FIELD... appends one tab-separated record to
# $BENCH_OUT/<bench>.tsv, <bench> being the directory of the running script (bench/<bench>/run.sh).
BB_NAME=$(basename "$(cd "$(dirname "$0")" && pwd)")
BB_RES=${BENCH_OUT:+$BENCH_OUT/$BB_NAME.tsv}
if [ -n "$BB_RES" ]; then mkdir -p "$BENCH_OUT" && : > "$BB_RES"; fi
bb_res() {
	[ -n "$BB_RES" ] || return 0
	local IFS=$'\t' line
	line="$*"
	printf '%s\n' "${line//$'\n'/ }" >> "$BB_RES"
}

# bb_results_dir DIR: creates DIR (a benchmark's kept raw results) and claims it for this run:
# two runs at once (several worktrees share /tmp) would mix their samples. A claim whose run has
# ended (its pid gone) is taken over.
bb_results_dir() {
	local owner
	mkdir -p "$1" || bb_die "cannot create $1"
	owner=$(cat "$1/.owner" 2>/dev/null)
	if [ -n "$owner" ] && [ "$owner" != $$ ] && kill -0 "$owner" 2>/dev/null; then
		bb_die "run $owner is using $1: set RESULTS to another directory"
	fi
	echo $$ > "$1/.owner"
}

# bb_berthd_stop: SIGTERM to the berthd this script started ($BERTHD_PID), and wait for it.
bb_berthd_stop() {
	[ -n "$BERTHD_PID" ] || return 0
	kill -TERM "$BERTHD_PID" 2>/dev/null
	wait "$BERTHD_PID" 2>/dev/null
	BERTHD_PID=
}

# bb_wait_for SECONDS command...: polls the command (output discarded) every 50 ms until it
# succeeds; false after SECONDS (an integer).
bb_wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@" > /dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}
