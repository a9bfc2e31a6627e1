#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Attach/detach benchmark: time to attach one running container to a bridge network and to
# detach it, p50 and p99, with 1 and with N containers already on the network; for berth, for
# netavark 1.4 (setup/teardown), for the CNI reference plugins (bridge + host-local) and for the
# kernel's own floor (veth pair created with its peer directly in a namespace; veth deleted).
# Everything runs in namespaces named bb-<pid>-*, removed on exit. Needs root.
#
#   bench/attach/run.sh        env: ATTACH_OPS=200 N_CONTAINERS=500 WARMUP=5 QUICK=1 (30 ops, 50)
#                                   RESULTS=/tmp/berth-bench-attach (raw samples, logs; kept)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
TOP=$BB_TOP

if [ "${QUICK:-0}" = 1 ]; then
	OPS=${ATTACH_OPS:-30} NC=${N_CONTAINERS:-50}
else
	OPS=${ATTACH_OPS:-200} NC=${N_CONTAINERS:-500}
fi
WARMUP=${WARMUP:-5}
RESULTS=${RESULTS:-/tmp/berth-bench-attach}
BERTHD=${BERTHD:-$TOP/build/berthd}
NV=/usr/lib/podman/netavark
CNIBIN=/usr/lib/cni
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
SOCK=$BB_DIR/berth.sock
BERTHD_PID=
declare -A BERTH_CPU=()
T_START=$SECONDS

[ "$(id -u)" = 0 ] || bb_die "run as root (it creates network namespaces)"
[ "$NC" -ge 2 ] || bb_die "N_CONTAINERS must be at least 2"

api() { "$PY" "$HERE/apiclient.py" "$SOCK" "$@"; }

# Kill the processes of berth's containers: those in a network namespace berthd made, and
# those whose root is an overlay over this run's image store (even once berthd is gone).
kill_container_procs() { # [report]
	local ns inode pid f n=0
	local -A ours=()
	for ns in "$BB_DIR"/run/netns/*; do
		[ -e "$ns" ] || continue
		inode=$(stat -L -c %i "$ns" 2>/dev/null) && ours[$inode]=1
	done
	if [ ${#ours[@]} -gt 0 ]; then
		for pid in /proc/[0-9]*; do
			inode=$(stat -L -c %i "$pid/ns/net" 2>/dev/null) || continue
			[ -n "${ours[$inode]:-}" ] && kill -KILL "${pid#/proc/}" 2>/dev/null && n=$((n + 1))
		done
	fi
	for f in $(grep -l -E "^[0-9]+ [0-9]+ [0-9:]+ / / .*lowerdir=$BB_DIR/berth/" /proc/[0-9]*/mountinfo 2>/dev/null); do
		pid=${f#/proc/}
		kill -KILL "${pid%/mountinfo}" 2>/dev/null && n=$((n + 1))
	done
	if [ "${1:-}" = report ] && [ $n -gt 0 ]; then
		bb_say "  WARNING: $n container processes outlived their removal by berth (killed now)"
	fi
	return 0
}

stop_berthd() {
	[ -n "$BERTHD_PID" ] || return 0
	kill -TERM "$BERTHD_PID" 2>/dev/null
	wait "$BERTHD_PID" 2>/dev/null
	BERTHD_PID=
}

cleanup() {
	local rc=$? ns
	if [ -n "$BERTHD_PID" ] && [ -S "$SOCK" ]; then
		timeout 180 "$PY" "$HERE/apiclient.py" "$SOCK" rmall > /dev/null 2>&1
	fi
	kill_container_procs
	stop_berthd
	kill_container_procs
	for ns in "$BB_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	umount -l "$BB_DIR/run/netns" 2>/dev/null
	bb_cleanup_netns
	[ -d "$BB_DIR/berth" ] && cp -f "$BB_DIR/berthd.log" "$RESULTS/" 2>/dev/null
	rm -rf "$BB_DIR"
	exit $rc
}

# ---------- preparation ----------
ensure_tools() {
	local missing=
	[ -x "$NV" ] || missing="$missing netavark"
	[ -x "$CNIBIN/bridge" ] && [ -x "$CNIBIN/host-local" ] || missing="$missing containernetworking-plugins"
	if [ -n "$missing" ]; then
		bb_say "installing$missing"
		apt-get install -y $missing > /dev/null || bb_die "could not install$missing"
	fi
	[ -x "$BERTHD" ] || make -C "$TOP" -j2 all > /dev/null || bb_die "could not build berthd"
	gcc -O2 -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -o "$BB_DIR/vethfloor" "$HERE/vethfloor.c" \
		$(pkg-config --cflags --libs libmnl) || bb_die "could not build vethfloor"
}

# ---------- kernel floor ----------
# run_floor TAG: measured right before berth's own TAG measurement, so that both see the same
# machine (an RCU grace period, most of a delete, varies with the load of the moment).
run_floor() {
	local f
	bb_say "  kernel floor ($TAG_DESC): veth pair with its peer created in a namespace, then deleted ($OPS each)"
	if [ ! -e "/run/netns/$BB_ID-kf-h" ]; then
		bb_netns kf-h && bb_netns kf-c || bb_die "cannot create namespaces"
		bb_in kf-h ip link add bbkfbr type bridge && bb_in kf-h ip link set bbkfbr up ||
			bb_die "cannot create a bridge"
	fi
	# floor: the plain pair (the target's reference); floorbr: host end created as a bridge port
	bb_in kf-h "$BB_DIR/vethfloor" $((OPS + WARMUP)) "/run/netns/$BB_ID-kf-c" > "$BB_DIR/floor.raw" &&
		bb_in kf-h "$BB_DIR/vethfloor" $((OPS + WARMUP)) "/run/netns/$BB_ID-kf-c" bbkfbr > "$BB_DIR/floorbr.raw" ||
		bb_die "vethfloor failed"
	for f in floor floorbr; do
		tail -n +$((WARMUP + 1)) "$BB_DIR/$f.raw" | awk '{print $1}' > "$RESULTS/$f.$1.attach"
		tail -n +$((WARMUP + 1)) "$BB_DIR/$f.raw" | awk '{print $2}' > "$RESULTS/$f.$1.detach"
	done
}

# ---------- berth ----------
start_berthd() {
	bb_netns bh || bb_die "cannot create namespace"
	nsenter --net="/run/netns/$BB_ID-bh" "$BERTHD" --root "$BB_DIR/berth" --run "$BB_DIR/run" \
		--socket "$SOCK" --log-level debug > "$BB_DIR/berthd.log" 2>&1 &
	BERTHD_PID=$!
	local deadline=$((SECONDS + 20))
	until curl -sf --unix-socket "$SOCK" http://x/_ping > /dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && { tail -20 "$BB_DIR/berthd.log"; bb_die "berthd did not come up"; }
		kill -0 "$BERTHD_PID" 2>/dev/null || { tail -20 "$BB_DIR/berthd.log"; bb_die "berthd exited"; }
		sleep 0.05
	done
}

net_create() { # name subnet
	curl -sf --unix-socket "$SOCK" -H 'Content-Type: application/json' -X POST http://x/networks/create \
		-d "{\"Name\": \"$1\", \"Driver\": \"bridge\", \"IPAM\": {\"Config\": [{\"Subnet\": \"$2\"}]}}" > /dev/null ||
		bb_die "cannot create network $1"
}

# server_durations FROM TO TAG: the µs berthd logged for connect/disconnect in log lines FROM..TO
server_durations() {
	sed -n "$1,$2p" "$BB_DIR/berthd.log" | awk '/POST \/networks\/bench\/connect 200/ {sub("us", "", $NF); print $NF}' \
		> "$RESULTS/berth-srv.$3.attach"
	sed -n "$1,$2p" "$BB_DIR/berthd.log" | awk '/POST \/networks\/bench\/disconnect 200/ {sub("us", "", $NF); print $NF}' \
		> "$RESULTS/berth-srv.$3.detach"
}

# berthd's CPU time so far, in clock ticks: "user sys"
berthd_cpu() { awk '{print $14, $15}' "/proc/$BERTHD_PID/stat"; }

berth_cycle() { # tag
	local l0 l1 u0 s0 u1 s1 hz
	hz=$(getconf CLK_TCK)
	l0=$(($(wc -l < "$BB_DIR/berthd.log") + 1))
	read -r u0 s0 < <(berthd_cpu)
	api cycle bench target "$OPS" "$WARMUP" "$RESULTS/berth.$1" || bb_die "berth cycle failed"
	read -r u1 s1 < <(berthd_cpu)
	l1=$(wc -l < "$BB_DIR/berthd.log")
	BERTH_CPU[$1]="user $(bb_calc "($u1 - $u0) * 1000 / $hz / ($OPS + $WARMUP)") ms, sys $(bb_calc "($s1 - $s0) * 1000 / $hz / ($OPS + $WARMUP)") ms"
	# the log holds the warm-up cycles too: keep the last OPS
	server_durations "$l0" "$l1" "$1"
	local f
	for f in "$RESULTS/berth-srv.$1.attach" "$RESULTS/berth-srv.$1.detach"; do
		tail -n "$OPS" "$f" > "$f.tmp" && mv "$f.tmp" "$f"
	done
}

run_berth() {
	local t0 shim_kib=0 shims=0 pid pss
	bb_say "== berth: berthd $BERTHD in namespace $BB_ID-bh"
	start_berthd
	net_create bench 10.77.0.0/16
	net_create side 10.78.0.0/24
	api target target side || bb_die "cannot start the target container"
	api spawn bench 1 1 r > /dev/null || bb_die "cannot start container r1"
	TAG_DESC="1 on berth's network" run_floor n1
	bb_say "  measuring with 1 container on the network ($OPS cycles)"
	berth_cycle n1
	bb_say "  starting $((NC - 1)) more containers on the network"
	t0=$SECONDS
	api spawn bench 2 "$NC" r || bb_die "cannot start the resident containers"
	BERTH_SPAWN_S=$((SECONDS - t0))
	BERTH_RSS=$(bb_rss_kib "$BERTHD_PID")
	for pid in $(ps -o pid= --ppid "$BERTHD_PID"); do
		pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
		shim_kib=$((shim_kib + ${pss:-0})); shims=$((shims + 1))
	done
	BERTH_SHIMS="$shims children of berthd, $((shim_kib / 1024)) MiB PSS in all"
	TAG_DESC="$NC on berth's network" run_floor "n$NC"
	bb_say "  measuring with $NC containers on the network ($OPS cycles)"
	berth_cycle "n$NC"
	BERTH_RSS_AFTER=$(bb_rss_kib "$BERTHD_PID")
	t0=$SECONDS
	api rmall || bb_die "cannot remove the containers"
	bb_say "  removed $((NC + 1)) containers in $((SECONDS - t0)) s"
	stop_berthd
	kill_container_procs report   # none expected: berth's removal ended them all
	cp "$BB_DIR/berthd.log" "$RESULTS/berthd.log"
	ip netns del "$BB_ID-bh"
}

# ---------- peers ----------
run_peer() { # netavark|cni
	bb_say "== $1 (container namespaces $BB_ID-c0..c$NC, host namespace $BB_ID-$1)"
	bb_netns "$1" || bb_die "cannot create namespace"
	bb_in "$1" bash "$HERE/peers.sh" "$1" "$BB_DIR/$1" "$BB_ID-c" "$NC" "$OPS" "$WARMUP" "$RESULTS/$1" ||
		bb_die "$1 phase failed"
}

make_container_netns() {
	local i
	for i in $(seq 0 "$NC"); do ip netns add "$BB_ID-c$i" || bb_die "cannot create namespace $BB_ID-c$i"; done
}

# ---------- report ----------
row() { # label file ref-file
	local p50 p99 n ratio="" r
	read -r p50 p99 n < <(bb_pct "$2")
	if [ -n "${3:-}" ]; then
		r=$(bb_p50 "$3")
		ratio=$(bb_calc "$p50 / $r")
	fi
	printf '| %-50s | %8s | %8s | %4s | %9s |\n' "$1" "$p50" "$p99" "$n" "${ratio:+${ratio}x}"
}

table() {
	local op n
	printf '| %-50s | %8s | %8s | %4s | %9s |\n' "operation" "p50 ms" "p99 ms" "n" "p50/berth"
	printf '|%s|%s|%s|%s|%s|\n' "----------------------------------------------------" "----------" "----------" "------" "-----------"
	for op in attach detach; do
		for n in n1 "n$NC"; do
			local on=${n#n} b="$RESULTS/berth.$n.$op"
			row "berth $op, $on on network" "$b" "$b"
			row "  (berthd's own log, same requests)" "$RESULTS/berth-srv.$n.$op" "$b"
			row "netavark $([ $op = attach ] && echo setup || echo teardown), $on on network" "$RESULTS/netavark.$n.$op" "$b"
			row "CNI bridge+host-local $([ $op = attach ] && echo ADD || echo DEL), $on on network" "$RESULTS/cni.$n.$op" "$b"
			row "kernel: veth $([ $op = attach ] && echo "create, peer in netns" || echo delete) (next to $on)" "$RESULTS/floor.$n.$op" "$b"
			row "  (the same, host end a bridge port)" "$RESULTS/floorbr.$n.$op" "$b"
		done
	done
}

verdict() { # description ok-condition
	local v=MISS
	if eval "$2"; then v=PASS; fi
	printf '%-4s  %s\n' "$v" "$1"
	[ $v = PASS ] || MISSES=$((MISSES + 1))
}

summary() {
	local b1a b1d bNa bNd nv1 nvN fl1 flN t1 tN
	b1a=$(bb_p50 "$RESULTS/berth.n1.attach"); b1d=$(bb_p50 "$RESULTS/berth.n1.detach")
	bNa=$(bb_p50 "$RESULTS/berth.n$NC.attach"); bNd=$(bb_p50 "$RESULTS/berth.n$NC.detach")
	nv1=$(bb_p50 "$RESULTS/netavark.n1.attach"); nvN=$(bb_p50 "$RESULTS/netavark.n$NC.attach")
	fl1=$(bb_p50 "$RESULTS/floor.n1.detach"); flN=$(bb_p50 "$RESULTS/floor.n$NC.detach")
	MISSES=0
	bb_say ""
	bb_say "Targets:"
	verdict "attach p50 <= 1/5 of netavark's, 1 on network: $b1a ms vs $(bb_calc "$nv1 / 5") ms (netavark/berth = $(bb_calc "$nv1 / $b1a")x)" \
		"bb_le $b1a $(bb_calc "$nv1 / 5")"
	verdict "attach p50 <= 1/5 of netavark's, $NC on network: $bNa ms vs $(bb_calc "$nvN / 5") ms (netavark/berth = $(bb_calc "$nvN / $bNa")x)" \
		"bb_le $bNa $(bb_calc "$nvN / 5")"
	t1=$(bb_calc "$fl1 + 3"); tN=$(bb_calc "$flN + 3")
	verdict "detach p50 within 3 ms of the veth-delete floor ($fl1 ms), 1 on network: $b1d ms <= $t1 ms" "bb_le $b1d $t1"
	verdict "detach p50 within 3 ms of the veth-delete floor ($flN ms), $NC on network: $bNd ms <= $tN ms" "bb_le $bNd $tN"
	verdict "flat attach: p50 at $NC <= 1.3 x p50 at 1: $bNa ms vs $(bb_calc "$b1a * 1.3") ms ($(bb_calc "$bNa / $b1a")x)" \
		"bb_le $bNa $(bb_calc "$b1a * 1.3")"
	verdict "flat detach: p50 at $NC <= 1.3 x p50 at 1: $bNd ms vs $(bb_calc "$b1d * 1.3") ms ($(bb_calc "$bNd / $b1d")x)" \
		"bb_le $bNd $(bb_calc "$b1d * 1.3")"
	verdict "berthd RSS with $NC endpoints <= 20 MiB: $(bb_calc "$BERTH_RSS / 1024") MiB" "[ $BERTH_RSS -le 20480 ]"
	bb_say ""
	bb_say "$MISSES target(s) missed. Raw samples (µs) and berthd's log: $RESULTS"
}

# ---------- main ----------
mkdir -p "$BB_DIR" "$RESULTS" || bb_die "cannot create $BB_DIR"
rm -f "$RESULTS"/*.attach "$RESULTS"/*.detach
trap cleanup EXIT
trap 'exit 130' INT TERM
ensure_tools
bb_say "# attach/detach benchmark: $OPS timed cycles (+$WARMUP warm-up) per case, $NC resident containers"
bb_say "# $(bb_machine)"
bb_say "# netavark $("$NV" --version | awk '{print $2}'), containernetworking-plugins $(dpkg-query -W -f='${Version}' containernetworking-plugins 2>/dev/null)"
bb_say "# berth: one keep-alive HTTP connection on berthd's socket (bench/attach/apiclient.py), time from"
bb_say "#   request written to reply read; peers: wall clock around fork+exec from bash; kernel: one"
bb_say "#   rtnetlink request from send to ACK (bench/attach/vethfloor.c)"
run_berth
ip netns del "$BB_ID-kf-h"; ip netns del "$BB_ID-kf-c"
make_container_netns
run_peer netavark
run_peer cni
bb_say ""
bb_say "berthd RSS: $((BERTH_RSS / 1024)) MiB ($BERTH_RSS KiB) with $NC containers on the network + 1 target;" \
	"$((BERTH_RSS_AFTER / 1024)) MiB after the second measurement"
bb_say "berth: starting $((NC - 1)) containers took $BERTH_SPAWN_S s; container shims: $BERTH_SHIMS"
bb_say "berthd CPU per attach+detach cycle: 1 on network: ${BERTH_CPU[n1]}; $NC on network: ${BERTH_CPU[n$NC]}"
bb_say ""
table | tee "$RESULTS/table.md"
summary | tee "$RESULTS/summary.txt"
bb_say "(whole run: $((SECONDS - T_START)) s)"
