#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Overlay benchmark (multi-host networks), not a test. Two "hosts" (namespaces a and b on an
# underlay bridge) run berthd against an etcd of their own; in the same run:
#  (1) iperf3 TCP throughput (1 and 4 streams) and ping latency (busybox ping -A, avg RTT)
#      container -> container across the two hosts
#        berth overlay     - a container on each host, on one overlay network
#        hand-built VXLAN  - bridge + VXLAN device (UDP 4790, static flood entry, learning on)
#                            made with ip(8) in the same two host namespaces, a namespace
#                            plugged into each bridge by a veth (MTU 1450): the physical limit
#        plain underlay    - host a -> host b over the underlay itself (no tunnel)
#      target: berth >= 95 % of the hand-built VXLAN
#  (2) the time from `berth run` on host a until a container on host b resolves the new
#      container's name and reaches it (a loop of ping by name inside that container), p50 and
#      p99 of RUNS; target: p50 <= 200 ms.
# Env: SECS (iperf3 seconds, 5), ROUNDS (3: the paths take turns, medians shown; 0 skips (1)), RUNS (50),
# PINGS (200). Needs etcd, iperf3.
set -u
. "$(dirname "$0")/../lib.sh"
TOP=$BB_TOP
BERTHD=${BERTHD:-$TOP/build/berthd}
BERTH=${BERTH:-$TOP/build/berth}
SECS=${SECS:-5} RUNS=${RUNS:-50} PINGS=${PINGS:-200} ROUNDS=${ROUNDS:-3}
declare -A PID=() IP=([a]=10.98.0.11 [b]=10.98.0.12)
EPID=

[ "$(id -u)" = 0 ] || bb_die "run as root (it creates network namespaces)"
command -v etcd >/dev/null || bb_die "etcd is needed (scripts/install-deps.sh)"
command -v iperf3 >/dev/null || bb_die "iperf3 is needed (BERTH_BENCH_DEPS=1 scripts/install-deps.sh)"
[ -x "$BERTHD" ] || make -C "$TOP" -j2 all >/dev/null || bb_die "could not build berthd"

b() { local h=$1; shift; BERTH_HOST=unix://$BB_DIR/$h/berth.sock "$BERTH" "$@"; }

cleanup() {
	local rc=$? h n ids ino line
	for h in a b; do
		[ -n "${PID[$h]:-}" ] || continue
		ids=$(b $h ps -aq 2>/dev/null)
		[ -z "$ids" ] || b $h rm -f $ids >/dev/null 2>&1
		kill "${PID[$h]}" 2>/dev/null
		wait "${PID[$h]}" 2>/dev/null
	done
	[ -n "$EPID" ] && kill "$EPID" 2>/dev/null && wait "$EPID" 2>/dev/null
	ino=" "
	for n in /run/netns/$BB_ID-*; do [ -e "$n" ] && ino+="$(stat -L -c %i "$n") "; done
	stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null | while read -r line; do
		case "$ino" in *" ${line%% *} "*) line=${line#*/proc/}; kill -KILL "${line%%/*}" 2>/dev/null;; esac
	done
	for n in "$BB_DIR"/*/run/netns/* "$BB_DIR"/*/run/netns; do umount -l "$n" 2>/dev/null; done
	bb_cleanup_netns
	rm -rf "$BB_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$BB_DIR"

# ---- the world: underlay, etcd, two hosts running berthd ----
for n in u e a b ha hb; do bb_netns "$n" || bb_die "namespaces"; done
bb_in u ip link add ubr type bridge && bb_in u ip link set ubr up
for n in e a b; do
	bb_in u ip link add "u$n" type veth peer name eth0 netns "/run/netns/$BB_ID-$n"
	bb_in u ip link set "u$n" master ubr up
	bb_in "$n" ip link set eth0 up
done
bb_in e ip addr add 10.98.0.1/24 dev eth0
for h in a b; do bb_in $h ip addr add "${IP[$h]}/24" dev eth0; done
nsenter --net=/run/netns/$BB_ID-e etcd --name s1 --data-dir "$BB_DIR/etcd" \
	--listen-client-urls http://10.98.0.1:2379 --advertise-client-urls http://10.98.0.1:2379 \
	--listen-peer-urls http://10.98.0.1:2380 --initial-advertise-peer-urls http://10.98.0.1:2380 \
	--initial-cluster s1=http://10.98.0.1:2380 >"$BB_DIR/etcd.log" 2>&1 &
EPID=$!
for i in $(seq 100); do bb_in a curl -sf -m 1 http://10.98.0.1:2379/health >/dev/null && break; sleep 0.1; done
# No upstream resolvers: a name not (yet) known is answered at once, never forwarded.
: >"$BB_DIR/resolv.conf"
export BERTH_RESOLV_CONF=$BB_DIR/resolv.conf
for h in a b; do
	mkdir -p "$BB_DIR/$h"
	nsenter --net=/run/netns/$BB_ID-$h "$BERTHD" --root "$BB_DIR/$h/root" --run "$BB_DIR/$h/run" \
		--socket "$BB_DIR/$h/berth.sock" --cluster-store etcd://10.98.0.1:2379 \
		--advertise-addr "${IP[$h]}" --cluster-host-name "bench-$h" >"$BB_DIR/$h/berthd.log" 2>&1 &
	PID[$h]=$!
done
for h in a b; do
	for i in $(seq 200); do
		curl -sf --unix-socket "$BB_DIR/$h/berth.sock" http://x/info 2>/dev/null |
			jq -e '.Cluster.Registered and .Cluster.Synced' >/dev/null && break
		sleep 0.1
	done
done
b a network create -d overlay --subnet 10.58.0.0/16 ov >/dev/null || bb_die "network create"
b a run -d --name srv --network ov busybox sleep 1d >/dev/null || bb_die "run srv"
b b run -d --name cli --network ov busybox sleep 1d >/dev/null || bb_die "run cli"
ns_of() { echo "$BB_DIR/$1/run/netns/$(b $1 inspect "$2" | jq -r '.[0].Id')"; }
SRV_NS=$(ns_of a srv) CLI_NS=$(ns_of b cli)
SRV=$(b a inspect srv | jq -r '.[0].NetworkSettings.Networks.ov.IPAddress')

# ---- the hand-built VXLAN between the same two host namespaces ----
for h in a b; do
	o=$([ $h = a ] && echo b || echo a)
	n=$([ $h = a ] && echo 1 || echo 2)
	bb_in $h sh -c "ip link add hbr type bridge && ip link set hbr up &&
		ip link add hvx type vxlan id 4200 dstport 4790 local ${IP[$h]} dev eth0 &&
		ip link set hvx master hbr up &&
		bridge fdb append 00:00:00:00:00:00 dev hvx dst ${IP[$o]} &&
		ip link add hv type veth peer name eth0 netns /run/netns/$BB_ID-h$h &&
		ip link set hv mtu 1450 master hbr up" || bb_die "hand-built VXLAN on $h"
	bb_in h$h sh -c "ip link set eth0 mtu 1450 up && ip addr add 10.97.0.$n/24 dev eth0"
done

# ---- (1) throughput and latency ----
gbps() { # CLIENT-NS SERVER-NS ADDR STREAMS
	nsenter --net="$2" iperf3 -s -1 -D -p 5201 >/dev/null 2>&1
	for i in $(seq 50); do nsenter --net="$2" ss -Hltn 'sport = :5201' | grep -q . && break; sleep 0.05; done
	nsenter --net="$1" iperf3 -c "$3" -p 5201 -P "$4" -t "$SECS" -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100'
}
rtt() { nsenter --net="$1" busybox ping -A -q -c "$PINGS" "$2" 2>/dev/null | awk -F/ '/round-trip/ { print $4 }'; }
# Each path is measured ROUNDS times, the paths taking turns (the machine's load drifts), and
# the median of each is shown.
declare -A P_CLI=([berth]=$CLI_NS [hand]=/run/netns/$BB_ID-hb [under]=/run/netns/$BB_ID-b)
declare -A P_SRV=([berth]=$SRV_NS [hand]=/run/netns/$BB_ID-ha [under]=/run/netns/$BB_ID-a)
declare -A P_ADDR=([berth]=$SRV [hand]=10.97.0.1 [under]=${IP[a]})
declare -A P_NAME=([berth]="berth overlay" [hand]="hand-built VXLAN" [under]="plain underlay (no tunnel)")
[ "$ROUNDS" -gt 0 ] && for r in $(seq "$ROUNDS"); do
	for p in berth hand under; do
		gbps "${P_CLI[$p]}" "${P_SRV[$p]}" "${P_ADDR[$p]}" 1 >>"$BB_DIR/$p.g1"
		gbps "${P_CLI[$p]}" "${P_SRV[$p]}" "${P_ADDR[$p]}" 4 >>"$BB_DIR/$p.g4"
		rtt "${P_CLI[$p]}" "${P_ADDR[$p]}" >>"$BB_DIR/$p.rtt"
	done
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
bb_say "# $(bb_machine)"
if [ "$ROUNDS" -gt 0 ]; then
bb_say "## container to container across two hosts (iperf3 TCP ${SECS} s, ping avg of $PINGS; median of $ROUNDS rounds)"
printf '%-28s %10s %10s %12s\n' path "1 stream" "4 streams" "rtt ms"
for p in berth hand under; do
	printf '%-28s %10s %10s %12s\n' "${P_NAME[$p]}" "$(med $BB_DIR/$p.g1)" "$(med $BB_DIR/$p.g4)" \
		"$(med $BB_DIR/$p.rtt)"
done
b1=$(med $BB_DIR/berth.g1) b4=$(med $BB_DIR/berth.g4) h1=$(med $BB_DIR/hand.g1) h4=$(med $BB_DIR/hand.g4)
u1=$(med $BB_DIR/under.g1) u4=$(med $BB_DIR/under.g4)
# Ratios of the paths measured side by side in each round, then their median: a round's two
# measurements saw the same load.
paste -d' ' "$BB_DIR/berth.g1" "$BB_DIR/hand.g1" | awk '{ print 100 * $1 / $2 }' >"$BB_DIR/ratio.g1"
paste -d' ' "$BB_DIR/berth.g4" "$BB_DIR/hand.g4" | awk '{ print 100 * $1 / $2 }' >"$BB_DIR/ratio.g4"
r1=$(bb_calc "$(med $BB_DIR/ratio.g1)") r4=$(bb_calc "$(med $BB_DIR/ratio.g4)")
bb_say "berth / hand-built VXLAN (median of the per-round ratios): $r1 % (1 stream), $r4 % (4 streams)" \
	"$(bb_le 95 "$r1" && echo PASS || echo MISS) (target >= 95 %)"
bb_say "  per round, 1 stream: $(tr '\n' ' ' <"$BB_DIR/ratio.g1")"
bb_say "berth / plain underlay: $(bb_calc "100 * $b1 / $u1") % (1 stream), $(bb_calc "100 * $b4 / $u4") % (4 streams)"
fi

# ---- (2) from run on host a to resolved and reached from host b ----
bb_say "## run on host a -> a container on host b resolves and reaches it ($RUNS runs)"
: >"$BB_DIR/reach.us"
: >"$BB_DIR/after.us"
for i in $(seq "$RUNS"); do
	b b exec cli sh -c "until ping -c1 -W1 t$i >/dev/null 2>&1; do usleep 1000; done" &
	waiter=$!
	t0=$EPOCHREALTIME
	b a run -d --name "t$i" --network ov busybox sleep 1d >/dev/null || bb_die "run t$i"
	tr=$EPOCHREALTIME
	wait "$waiter"
	t1=$EPOCHREALTIME
	echo $(( $(bb_us "$t1") - $(bb_us "$t0") )) >>"$BB_DIR/reach.us"
	echo $(( $(bb_us "$t1") - $(bb_us "$tr") )) >>"$BB_DIR/after.us"
	b a rm -f "t$i" >/dev/null
done
read -r p50 p99 n <<<"$(bb_pct "$BB_DIR/reach.us")"
read -r a50 a99 _ <<<"$(bb_pct "$BB_DIR/after.us")"
bb_say "from run: p50 $p50 ms, p99 $p99 ms (n=$n) $(bb_le "$p50" 200 && echo PASS || echo MISS) (target p50 <= 200 ms)"
bb_say "  of which after \`berth run\` returned: p50 $a50 ms, p99 $a99 ms;" \
	"runs over 1 s (a first ping lost: ping waits 1 s): $(awk '$1 > 1000000' "$BB_DIR/reach.us" | wc -l)"
