#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Attach/detach benchmark: time to attach one running container to a bridge network and to
# detach it, p50 and p99, with 1, 100, 500, 1,000, 2,000 and 4,000 containers already on the
# network (the sweep); for berth, for netavark 1.4 (setup/teardown), for the CNI reference plugins
# (bridge + host-local) and for the kernel's own floor (veth pair created with its peer directly
# in a namespace; veth deleted). A size that cannot be reached (a bridge holds at most 1,024
# ports) ends that one's sweep: what it could not do is said in the report. Everything runs in
# namespaces named bb-<pid>-*, removed on exit. Needs root.
#
#   bench/attach/run.sh   env: LEVELS="1 100 500 1000 2000 4000" ATTACH_OPS=100 WARMUP=5
#                              QUICK=1 (LEVELS="1 50 100", 20 ops); N_CONTAINERS=N (LEVELS="1 N")
#                              PEERS=0 (berth and the kernel floor only: no netavark, no CNI)
#                              RESULTS=/tmp/berth-bench-attach (raw samples, logs; kept)
#                              BENCH_OUT=dir: machine-readable results (bench/README.md)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
TOP=$BB_TOP

if [ "${QUICK:-0}" = 1 ]; then
	OPS=${ATTACH_OPS:-20} LEVELS=${LEVELS:-1 50 100}
else
	OPS=${ATTACH_OPS:-100} LEVELS=${LEVELS:-1 100 500 1000 2000 4000}
fi
[ -n "${N_CONTAINERS:-}" ] && LEVELS="1 $N_CONTAINERS"
read -ra LV <<< "$LEVELS"
WARMUP=${WARMUP:-5}
PEERS=${PEERS:-1}
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
for l in "${LV[@]}"; do [ "$l" -ge 1 ] 2>/dev/null || bb_die "LEVELS: $l is not a number >= 1"; done

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
# floor_ports N: the floor's bridge gets N ports (veth pairs, up), like berth's bridge with N
# containers: adding and removing a port walks the bridge's ports in the kernel. Their namespace
# gives new links no IPv6, as berth gives its host ends (else 1,000 links doing DAD and router
# solicitation load the machine while the floor is measured).
# A bridge takes at most 1,023 ports: past 1,000 the floor's bridge stays full (berth spreads a
# bigger network over several bridges, each of them at most that full).
FLOOR_PORTS=0
floor_ports() {
	local i n=$1
	[ "$n" -le 1000 ] || n=1000
	set -- "$n"
	[ "$1" -gt "$FLOOR_PORTS" ] || return 0
	bb_in kf-h sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	for i in $(seq $((FLOOR_PORTS + 1)) "$1"); do
		echo "link add bbkp$i type veth peer name bbkq$i"
		echo "link set bbkp$i master bbkfbr up"
		echo "link set bbkq$i up"
	done | bb_in kf-h ip -batch - || bb_die "cannot add ports to the floor's bridge"
	FLOOR_PORTS=$1
}

# floor_fdb N: past 959 endpoints (its own bridge's share of 1,023 ports, the rest kept for trunks)
# berth's network spans several bridges, and each of them holds a forwarding entry for every
# endpoint (mgr_spill_nd.c); the floor's bridge then gets as many (externally learnt, as
# berth's), spread over its ports: the kernel walks them when a port comes and goes.
FLOOR_FDB=0
floor_fdb() {
	local i n=$1
	[ "$n" -gt 959 ] && [ "$n" -gt "$FLOOR_FDB" ] || return 0
	for i in $(seq $((FLOOR_FDB + 1)) "$n"); do
		printf 'fdb add 02:42:0a:%02x:%02x:%02x dev bbkp%d master extern_learn\n' \
			$((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255)) $((i % FLOOR_PORTS + 1))
	done | bb_in kf-h bridge -batch - || bb_die "cannot add forwarding entries to the floor's bridge"
	FLOOR_FDB=$n
}

# run_floor TAG [PORTS]: measured right before berth's own TAG measurement, so that both see the
# same machine (an RCU grace period, most of a delete, varies with the load of the moment).
run_floor() {
	local f
	bb_say "  kernel floor ($TAG_DESC): veth pair with its peer created in a namespace, then deleted ($OPS each)"
	if [ ! -e "/run/netns/$BB_ID-kf-h" ]; then
		bb_netns kf-h && bb_netns kf-c || bb_die "cannot create namespaces"
		bb_in kf-h ip link add bbkfbr type bridge mcast_snooping 0 && bb_in kf-h ip link set bbkfbr up ||
			bb_die "cannot create a bridge"
	fi
	floor_ports "${2:-0}"
	floor_fdb "${2:-0}"
	# floor: the plain pair (the target's reference); floorbr: host end created as a bridge port;
	# floorfull: every request of berth's join in its order, and the delete of that veth (a
	# bridge port, up, its peer addressed): the kernel's share of berth's attach and detach
	bb_in kf-h "$BB_DIR/vethfloor" $((OPS + WARMUP)) "/run/netns/$BB_ID-kf-c" > "$BB_DIR/floor.raw" &&
		bb_in kf-h "$BB_DIR/vethfloor" $((OPS + WARMUP)) "/run/netns/$BB_ID-kf-c" bbkfbr > "$BB_DIR/floorbr.raw" &&
		bb_in kf-h "$BB_DIR/vethfloor" $((OPS + WARMUP)) "/run/netns/$BB_ID-kf-c" bbkfbr full > "$BB_DIR/floorfull.raw" ||
		bb_die "vethfloor failed"
	for f in floor floorbr floorfull; do
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

declare -A LIMIT=()   # who -> what stopped its sweep
declare -A RSS=()     # level -> berthd's RSS (KiB)
BERTH_LEVELS=()

run_berth() {
	local t0 shim_kib=0 shims=0 pid pss have=0 l out
	bb_say "== berth: berthd $BERTHD in namespace $BB_ID-bh"
	start_berthd
	net_create bench 10.77.0.0/16
	net_create side 10.78.0.0/24
	api target target side || bb_die "cannot start the target container"
	for l in "${LV[@]}"; do
		if [ "$l" -gt "$have" ]; then
			bb_say "  starting containers $((have + 1))..$l on the network"
			t0=$SECONDS
			api spawn bench $((have + 1)) "$l" r 2>&1 | tee "$BB_DIR/spawn.out"
			if [ "${PIPESTATUS[0]}" != 0 ]; then
				LIMIT[berth]="berth: $l containers on one network (the sweep stops at ${BERTH_LEVELS[*]: -1}): $(tail -1 "$BB_DIR/spawn.out" | cut -c1-240)"
				bb_say "  STOP: ${LIMIT[berth]}"
				break
			fi
			BERTH_SPAWN_S[$l]=$((SECONDS - t0))
			have=$l
		fi
		RSS[$l]=$(bb_rss_kib "$BERTHD_PID")
		TAG_DESC="$l on berth's network" run_floor "n$l" "$l"
		bb_say "  measuring with $l containers on the network ($OPS cycles)"
		berth_cycle "n$l"
		BERTH_LEVELS+=("$l")
	done
	for pid in $(ps -o pid= --ppid "$BERTHD_PID"); do
		pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
		shim_kib=$((shim_kib + ${pss:-0})); shims=$((shims + 1))
	done
	BERTH_SHIMS="$shims children of berthd, $((shim_kib / 1024)) MiB PSS in all"
	t0=$SECONDS
	api rmall || bb_die "cannot remove the containers"
	bb_say "  removed the containers in $((SECONDS - t0)) s"
	stop_berthd
	kill_container_procs report   # none expected: berth's removal ended them all
	cp "$BB_DIR/berthd.log" "$RESULTS/berthd.log"
	ip netns del "$BB_ID-bh"
}
declare -A BERTH_SPAWN_S=()

# ---------- peers ----------
run_peer() { # netavark|cni
	local lim
	bb_say "== $1 (container namespaces $BB_ID-c0.., host namespace $BB_ID-$1)"
	bb_netns "$1" || bb_die "cannot create namespace"
	bb_in "$1" bash "$HERE/peers.sh" "$1" "$BB_DIR/$1" "$BB_ID-c" "$LEVELS" "$OPS" "$WARMUP" "$RESULTS/$1" ||
		bb_die "$1 phase failed"
	if [ -s "$RESULTS/$1.limit" ]; then
		lim=$(cat "$RESULTS/$1.limit")
		LIMIT[$1]="$lim"
		bb_say "  STOP: $lim"
	fi
}

# ---------- report ----------
row() { # label file ref-file
	local p50 p99 n ratio="" r
	[ -s "$2" ] || return 0
	read -r p50 p99 n < <(bb_pct "$2")
	if [ -n "${3:-}" ] && [ -s "$3" ]; then
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
		for on in "${LV[@]}"; do
			n=n$on
			local b="$RESULTS/berth.$n.$op"
			row "berth $op, $on on network" "$b" "$b"
			row "  (berthd's own log, same requests)" "$RESULTS/berth-srv.$n.$op" "$b"
			row "netavark $([ $op = attach ] && echo setup || echo teardown), $on on network" "$RESULTS/netavark.$n.$op" "$b"
			row "CNI bridge+host-local $([ $op = attach ] && echo ADD || echo DEL), $on on network" "$RESULTS/cni.$n.$op" "$b"
			row "kernel: veth $([ $op = attach ] && echo "create, peer in netns" || echo delete) (next to $on)" "$RESULTS/floor.$n.$op" "$b"
			row "  (the same, host end a port of a bridge with $on ports)" "$RESULTS/floorbr.$n.$op" "$b"
			row "kernel: $([ $op = attach ] && echo "every request of berth's join" || echo "delete of that veth (port, up, addressed)")" "$RESULTS/floorfull.$n.$op" "$b"
		done
	done
}

# p50 WHO LEVEL OP: the p50 in ms, or "-" without samples
p50() { if [ -s "$RESULTS/$1.n$2.$3" ]; then bb_p50 "$RESULTS/$1.n$2.$3"; else echo -; fi; }
p99() { if [ -s "$RESULTS/$1.n$2.$3" ]; then bb_pct "$RESULTS/$1.n$2.$3" | awk '{print $2}'; else echo -; fi; }

VERDICTS=()
verdict() { # description ok-condition
	local v=MISS
	if eval "$2"; then v=PASS; fi
	printf '%-4s  %s\n' "$v" "$1"
	VERDICTS+=("$v"$'\t'"$1")
	[ $v = PASS ] || MISSES=$((MISSES + 1))
}

# own_share FIRST LAST: berth's p50 less the kernel's for the same requests (vethfloor full,
# measured right before berth at each size): what of the growth and of the detach is berth's.
own_share() {
	local op b1 bL k1 kL o1 oL
	for op in attach detach; do
		b1=$(p50 berth "$1" $op); bL=$(p50 berth "$2" $op); k1=$(p50 floorfull "$1" $op); kL=$(p50 floorfull "$2" $op)
		[ "$k1" = - ] || [ "$kL" = - ] && continue
		o1=$(bb_calc "$b1 - $k1"); oL=$(bb_calc "$bL - $kL")
		bb_say "INFO  $op: berth $b1 -> $bL ms from $1 to $2 on the network (+$(bb_calc "$bL - $b1") ms); the kernel for berth's requests $k1 -> $kL ms (+$(bb_calc "$kL - $k1") ms); berth's own share $o1 -> $oL ms"
	done
	b1=$(p50 berth "$1" attach); bL=$(p50 berth "$2" attach); k1=$(p50 floorfull "$1" attach); kL=$(p50 floorfull "$2" attach)
	[ "$k1" = - ] || [ "$kL" = - ] ||
		verdict "berth's own share of attach flat (p50 less the kernel's for the same requests): $(bb_calc "$bL - $kL") ms at $2 <= 1.3 x $(bb_calc "$b1 - $k1") ms at $1" \
			"bb_le $(bb_calc "$bL - $kL") $(bb_calc "($b1 - $k1) * 1.3")"
	for l in "$1" "$2"; do
		b1=$(p50 berth "$l" detach); k1=$(p50 floorfull "$l" detach)
		[ "$k1" = - ] ||
			verdict "detach p50 within 3 ms of the kernel's delete of the same veth (port, up, addressed: $k1 ms), $l on network: $b1 ms <= $(bb_calc "$k1 + 3") ms" \
				"bb_le $b1 $(bb_calc "$k1 + 3")"
	done
}

summary() {
	local l b1a b1d bLa bLd nv fl t first last
	first=${BERTH_LEVELS[0]}; last=${BERTH_LEVELS[${#BERTH_LEVELS[@]} - 1]}
	MISSES=0
	bb_say ""
	bb_say "Targets:"
	for l in "${BERTH_LEVELS[@]}"; do
		b1a=$(p50 berth "$l" attach); nv=$(p50 netavark "$l" attach)
		[ "$nv" = - ] && continue
		verdict "attach p50 <= 1/5 of netavark's, $l on network: $b1a ms vs $(bb_calc "$nv / 5") ms (netavark/berth = $(bb_calc "$nv / $b1a")x)" \
			"bb_le $b1a $(bb_calc "$nv / 5")"
	done
	for l in "${BERTH_LEVELS[@]}"; do
		b1d=$(p50 berth "$l" detach); fl=$(p50 floor "$l" detach); t=$(bb_calc "$fl + 3")
		verdict "detach p50 within 3 ms of the veth-delete floor ($fl ms), $l on network: $b1d ms <= $t ms" "bb_le $b1d $t"
	done
	if [ "$last" != "$first" ]; then
		b1a=$(p50 berth "$first" attach); bLa=$(p50 berth "$last" attach)
		b1d=$(p50 berth "$first" detach); bLd=$(p50 berth "$last" detach)
		verdict "flat attach: p50 at $last <= 1.3 x p50 at $first: $bLa ms vs $(bb_calc "$b1a * 1.3") ms ($(bb_calc "$bLa / $b1a")x)" \
			"bb_le $bLa $(bb_calc "$b1a * 1.3")"
		verdict "flat detach: p50 at $last <= 1.3 x p50 at $first: $bLd ms vs $(bb_calc "$b1d * 1.3") ms ($(bb_calc "$bLd / $b1d")x)" \
			"bb_le $bLd $(bb_calc "$b1d * 1.3")"
		own_share "$first" "$last"
	fi
	[ -n "${RSS[500]:-}" ] &&
		verdict "berthd RSS with 500 endpoints <= 20 MiB: $(bb_calc "${RSS[500]} / 1024") MiB" "[ ${RSS[500]} -le 20480 ]"
	for who in berth netavark cni; do
		[ -n "${LIMIT[$who]:-}" ] && bb_say "LIMIT: ${LIMIT[$who]}"
	done
	bb_say ""
	bb_say "$MISSES target(s) missed. Raw samples (µs) and berthd's log: $RESULTS"
}

# machine-readable results (bench/README.md)
results() {
	local l op who v first last
	bb_res title "Attach / detach latency"
	bb_res note "$(bb_machine). Time to attach one running container to a bridge network and to detach it again, p50 and p99 over $OPS timed cycles (after $WARMUP untimed) at each size of the sweep (containers already on the network: $LEVELS). berth: \`POST /networks/{id}/connect|disconnect\` on one kept-alive API connection (berthd's latency plus one socket round trip); netavark $("$NV" --version | awk '{print $2}') \`setup|teardown\` and the CNI plugins (bridge + host-local, $(dpkg-query -W -f='${Version}' containernetworking-plugins 2>/dev/null)): wall clock around fork+exec, as podman and CNI runtimes run them; kernel floor: one \`RTM_NEWLINK\` creating a veth pair with its peer in another namespace, one \`RTM_DELLINK\` (bench/attach/vethfloor.c), measured right before berth at each size; the floor's bridge has as many ports as berth's (at most 1,000) and, once berth's network spans several bridges (past 959 endpoints), as many forwarding entries as each of berth's bridges holds (one per endpoint); kernel for berth's requests: every request of berth's join in its order with no manager around them (master looked up, pair created as a port of a bridge with as many ports as berth's, IPv6 off and hairpin on the host end, arp_notify, link up and address in the namespace), then the delete of that veth, as berth's detach deletes it (\`vethfloor ... full\`)."
	for who in berth netavark cni; do
		[ -n "${LIMIT[$who]:-}" ] || continue
		case ${LIMIT[$who]} in
		*"Exchange full"*|*"exchange full"*|*EXFULL*)
			bb_res limit "${LIMIT[$who]} (EXFULL: one Linux bridge takes at most 1,024 ports)" ;;
		*) bb_res limit "${LIMIT[$who]}" ;;
		esac
	done
	for v in "${VERDICTS[@]}"; do bb_res verdict "${v%%$'\t'*}" "${v#*$'\t'}"; done
	for op in attach detach; do
		if [ $op = attach ]; then
			bb_res table $op "Attach, ms (p50 / p99)" "containers on the network" "berth" "netavark setup" "CNI ADD" "kernel: veth create" "kernel: berth's join requests" "berthd RSS MiB"
		else
			bb_res table $op "Detach, ms (p50 / p99)" "containers on the network" "berth" "netavark teardown" "CNI DEL" "kernel: veth delete" "kernel: delete of berth's veth" "berthd RSS MiB"
		fi
		for l in "${LV[@]}"; do
			[ -s "$RESULTS/berth.n$l.$op" ] || [ -s "$RESULTS/netavark.n$l.$op" ] || [ -s "$RESULTS/cni.n$l.$op" ] || continue
			bb_res row $op "$l" "$(p50 berth $l $op) / $(p99 berth $l $op)" \
				"$(p50 netavark $l $op) / $(p99 netavark $l $op)" "$(p50 cni $l $op) / $(p99 cni $l $op)" \
				"$(p50 floor $l $op) / $(p99 floor $l $op)" "$(p50 floorfull $l $op) / $(p99 floorfull $l $op)" \
				"${RSS[$l]:+$(bb_calc "${RSS[$l]} / 1024")}"
		done
		bb_res plot $op lines "$([ $op = attach ] && echo "Attach latency (p50, log scale)" || echo "Detach latency (p50)") vs containers on the network" \
			"containers already on the network" "ms" "logx,xticks=${LEVELS// /:}$([ $op = attach ] && echo ,logy)"
		for who in berth netavark cni floor floorfull; do
			for l in "${LV[@]}"; do
				v=$(p50 $who "$l" $op)
				[ "$v" = - ] && continue
				bb_res point $op "$(case $who in berth) echo berth ;; netavark) echo "netavark $("$NV" --version | awk '{print $2}')" ;;
					cni) echo "CNI bridge+host-local" ;; floor) echo "kernel floor (veth)" ;;
					floorfull) echo "kernel: berth's requests" ;; esac)" "$l" "$v"
			done
		done
	done
	first=${BERTH_LEVELS[0]}; last=${BERTH_LEVELS[${#BERTH_LEVELS[@]} - 1]}
	r() { bb_r1 "$(p50 "$@")"; }
	bb_res glance "attach p50 **$(r berth "$first" attach) ms** with $first container on the network, **$(r berth "$last" attach) ms** with $last (netavark $(r netavark "$first" attach) / $(r netavark "$last" attach) ms, CNI $(r cni "$first" attach) / $(r cni "$last" attach) ms, kernel floor $(r floor "$first" attach) / $(r floor "$last" attach) ms)"
	bb_res glance "detach p50 $(r berth "$first" detach) / $(r berth "$last" detach) ms (netavark $(r netavark "$first" detach) / $(r netavark "$last" detach), CNI $(r cni "$first" detach) / $(r cni "$last" detach), kernel floor $(r floor "$first" detach) / $(r floor "$last" detach) ms)"
	bb_res glance "the kernel for berth's own requests: attach $(r floorfull "$first" attach) / $(r floorfull "$last" attach) ms, detach $(r floorfull "$first" detach) / $(r floorfull "$last" detach) ms"
}

# ---------- main ----------
mkdir -p "$BB_DIR" || bb_die "cannot create $BB_DIR"
bb_results_dir "$RESULTS"
rm -f "$RESULTS"/*.attach "$RESULTS"/*.detach "$RESULTS"/*.limit
trap cleanup EXIT
trap 'exit 130' INT TERM
ensure_tools
bb_say "# attach/detach benchmark: $OPS timed cycles (+$WARMUP warm-up) per case, containers on the network: $LEVELS"
bb_say "# $(bb_machine)"
bb_say "# netavark $("$NV" --version | awk '{print $2}'), containernetworking-plugins $(dpkg-query -W -f='${Version}' containernetworking-plugins 2>/dev/null)"
bb_say "# berth: one keep-alive HTTP connection on berthd's socket (bench/attach/apiclient.py), time from"
bb_say "#   request written to reply read; peers: wall clock around fork+exec from bash; kernel: one"
bb_say "#   rtnetlink request from send to ACK (bench/attach/vethfloor.c)"
run_berth
ip netns del "$BB_ID-kf-h"; ip netns del "$BB_ID-kf-c"
if [ "$PEERS" = 1 ]; then
	run_peer netavark
	run_peer cni
fi
bb_say ""
for l in "${BERTH_LEVELS[@]}"; do
	bb_say "berthd RSS with $l containers on the network (+1 target): $((RSS[$l] / 1024)) MiB (${RSS[$l]} KiB)${BERTH_SPAWN_S[$l]:+; starting up to them took ${BERTH_SPAWN_S[$l]} s}"
	bb_say "  berthd CPU per attach+detach cycle: ${BERTH_CPU[n$l]}"
done
bb_say "berth: container shims: $BERTH_SHIMS"
bb_say ""
table | tee "$RESULTS/table.md"
summary > "$RESULTS/summary.txt"    # not in a pipe: results uses what it sets
cat "$RESULTS/summary.txt"
results
bb_say "(whole run: $((SECONDS - T_START)) s)"
