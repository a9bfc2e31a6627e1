#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth network probe at scale (not a test): NCTR containers on NNET dual-stack networks (the
# containers spread round robin), the full matrix: every ordered pair, ICMP, TCP, UDP and DNS,
# IPv4 and IPv6 (50 x 49 x 4 x 2 = 19,600 cells by default). REPS runs; for each, the time the
# CLI waited, the time berthd reports, berthd's CPU time (utime + stime from /proc) and its
# threads and descriptors after the run. Target: a run under 10 s on this machine.
#   Usage (root): bench/probe/run.sh    env: NCTR=50 NNET=5 REPS=3
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || bb_die "run as root"
NCTR=${NCTR:-50}; NNET=${NNET:-5}; REPS=${REPS:-3}
BERTHD=$BB_TOP/build/berthd BERTH=$BB_TOP/build/berth
[ -x "$BERTHD" ] && [ -x "$BERTH" ] || bb_die "build first: make all"
command -v jq >/dev/null || bb_die "jq is needed"

export BERTH_HOST=unix://$BB_DIR/berth.sock
BERTHD_PID=
berth() { "$BERTH" "$@"; }
cleanup() {
	if [ -n "$BERTHD_PID" ]; then
		berth ps -aq 2>/dev/null | xargs -r -n 16 "$BERTH" rm -f >/dev/null 2>&1
		kill "$BERTHD_PID" 2>/dev/null; wait "$BERTHD_PID" 2>/dev/null
	fi
	for ns in "$BB_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	umount -l "$BB_DIR/run/netns" 2>/dev/null
	bb_cleanup_netns
	rm -rf "$BB_DIR"
}
trap cleanup EXIT
mkdir -p "$BB_DIR"
bb_netns h || bb_die "cannot create namespace"
nsenter --net=/run/netns/$BB_ID-h "$BERTHD" --root "$BB_DIR/root" --run "$BB_DIR/run" \
	--socket "$BB_DIR/berth.sock" --log-level info >"$BB_DIR/berthd.log" 2>&1 &
BERTHD_PID=$!
for i in $(seq 200); do curl -sf --unix-socket "$BB_DIR/berth.sock" http://x/_ping >/dev/null && break; sleep 0.05; done

t0=$EPOCHREALTIME
for n in $(seq "$NNET"); do
	berth network create --ipv6 --subnet "10.$((90 + n)).0.0/24" --subnet "fd00:$((90 + n))::/64" \
		"net$n" >/dev/null || bb_die "network net$n"
done
for i in $(seq "$NCTR"); do
	berth run -d --name "$(printf c%02d "$i")" --network "net$(( (i - 1) % NNET + 1 ))" \
		busybox sleep 1d >/dev/null || bb_die "container $i"
done
setup=$(bb_calc "($(bb_us $EPOCHREALTIME) - $(bb_us $t0)) / 1000000")

ticks() { awk '{print $14 + $15}' "/proc/$BERTHD_PID/stat"; }
hz=$(getconf CLK_TCK)
bb_say "berth network probe: $NCTR containers on $NNET dual-stack networks (set up in ${setup} s)"
bb_say "$(bb_machine)"
printf '%-4s %8s %9s %9s %8s %8s %8s %6s %7s %5s\n' run cells wall_s berthd_s cpu_s reach blocked errors differ fds
for r in $(seq "$REPS"); do
	c0=$(ticks); s=$EPOCHREALTIME
	berth network probe --format json >"$BB_DIR/m.json" || bb_die "probe failed"
	wall=$(bb_calc "($(bb_us $EPOCHREALTIME) - $(bb_us $s)) / 1000000")
	cpu=$(bb_calc "($(ticks) - $c0) / $hz")
	fds=$(ls "/proc/$BERTHD_PID/fd" | wc -l)
	jq -r --arg r "$r" --arg w "$wall" --arg c "$cpu" --arg f "$fds" '.Summary |
		"\($r) \(.Cells) \($w) \(.DurationMs / 1000) \($c) \(.Reach) \(.Blocked) \(.Errors) \(.Violations) \($f)"' \
		"$BB_DIR/m.json" | xargs printf '%-4s %8s %9s %9s %8s %8s %8s %6s %7s %5s\n'
done
bb_say "berthd's steps (its log):"
grep 'probe: .* cells of' "$BB_DIR/berthd.log" | sed 's/^.*probe: /  /'
bb_say "target: a run under 10 s"
