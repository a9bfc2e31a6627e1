#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The container's own start cost, without berthd's and the CLI's: for each container that
# bench/start/run.sh starts, the time from the exec of its shim to the exec of the user's command
# by its init (the shim's child), from the kernel's sched_process_fork/exec tracepoints (perf, no
# instrumentation; a few µs each). Needs root and perf.
#
#   bench/start/shim.sh   env: as run.sh (RUNS=30 WARMUP=5; RESTART_N is forced to 0), BERTHD
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BERTHD=${BERTHD:-$BB_TOP/build/berthd}
RESULTS=${RESULTS:-/tmp/berth-bench-shim}
command -v perf > /dev/null || bb_die "perf is needed"
mkdir -p "$RESULTS"
perf record -q -a -e sched:sched_process_exec -e sched:sched_process_fork -o "$RESULTS/perf.data" -- \
	env RUNS="${RUNS:-30}" RESTART_N=0 RESULTS="$RESULTS/run" BERTHD="$BERTHD" "$HERE/run.sh" ||
	bb_die "bench/start/run.sh failed"
# The processes descending from our berthd: a shim is a child of berthd that execs berth-shim
# (or berthd itself, re-executed); its first child to exec is the container's init.
perf script -i "$RESULTS/perf.data" 2>/dev/null | awk -v berthd="$(readlink -f "$BERTHD")" '
	function field(name,   i) { for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2) }
	function us(t) { sub(":$", "", t); return t * 1e6 }
	/sched_process_fork/ { p = field("pid"); c = field("child_pid"); if (p in ours) { ours[c] = 1; parent[c] = p } }
	/sched_process_exec/ {
		f = field("filename"); p = field("pid"); t = us($4)
		if (f == berthd) { ours[p] = 1; next }
		if (!(p in ours)) next
		if ((f ~ /\/berth-shim$/ || f == "/proc/self/exe") && !(parent[p] in shim)) { shim[p] = t; next }
		if ((parent[p] in shim) && !(p in done)) { done[p] = 1; printf "%d\n", t - shim[parent[p]] }
	}' > "$RESULTS/shim_to_init"
read -r p50 p99 n < <(bb_pct "$RESULTS/shim_to_init")
bb_say "$(printf '  %-46s p50 %8s ms   p99 %8s ms   (n=%s)' "shim exec -> the init's exec of the command" "$p50" "$p99" "$n")"
