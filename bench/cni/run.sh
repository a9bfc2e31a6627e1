#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CNI benchmark, everything in the same run:
#  1. ADD and DEL latency of one attachment, the plugin invoked as the spec says (environment +
#     configuration on stdin, wall time around fork+exec from bash), with 1 and then N other
#     attachments already on the network, for berth-cni (berthd does the work), the reference
#     bridge + host-local plugins (containernetworking-plugins) and netavark 1.4 (setup and
#     teardown of one container, its JSON on stdin). Each system has its own network. At 1, the
#     three are measured cycle by cycle in turn (the same moments of the machine); at N, each
#     system alone with its N attachments, which are removed before the next system's.
#  2. podman 4.3 `network connect` / `network disconnect` of a running container, with berth-cni,
#     with the reference bridge plugin (podman's own CNI configuration list: bridge, portmap,
#     firewall, tuning) and with netavark: whole podman process time.
# Everything runs in namespaces bb-<pid>-*, private directories, removed on exit. Needs root.
#
#   bench/cni/run.sh    env: OPS=30 N=500 PODMAN_OPS=15 QUICK=1 (OPS=10 N=50 PODMAN_OPS=5)
#                            RESULTS=/tmp/berth-bench-cni (raw samples in µs; kept)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
TOP=$BB_TOP
if [ "${QUICK:-0}" = 1 ]; then OPS=${OPS:-10} N=${N:-50} PODMAN_OPS=${PODMAN_OPS:-5}; fi
OPS=${OPS:-30} N=${N:-500} PODMAN_OPS=${PODMAN_OPS:-15}
RESULTS=${RESULTS:-/tmp/berth-bench-cni}
BERTHD=$TOP/build/berthd BERTH=$TOP/build/berth CNI=$TOP/build/berth-cni
REF=/usr/lib/cni NV=/usr/lib/podman/netavark
SOCK=$BB_DIR/berth.sock
BERTHD_PID=
H=$BB_ID-bh

[ "$(id -u)" = 0 ] || bb_die "run as root (it creates network namespaces)"
for f in "$BERTHD" "$CNI" "$REF/bridge" "$NV"; do [ -x "$f" ] || bb_die "$f is missing (make all; scripts/install-deps.sh with BERTH_BENCH_DEPS=1)"; done
command -v podman > /dev/null || bb_die "podman is missing (scripts/install-deps.sh)"
mkdir -p "$RESULTS" "$BB_DIR"

cleanup() {
	local rc=$? d
	for d in berth bridge netavark; do pod "$d" rm -af -t 0 > /dev/null 2>&1; done
	awk -v d="$BB_DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
	[ -n "$BERTHD_PID" ] && kill -TERM "$BERTHD_PID" 2>/dev/null && wait "$BERTHD_PID" 2>/dev/null
	bb_cleanup_netns
	rm -rf "$BB_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- the three systems, one attachment call each: tm SYSTEM CMD I -> µs on stdout ----------
cid() { printf 'c%063x' "$1"; }
conf_berth() { printf '{"cniVersion":"1.0.0","name":"bnet","type":"berth-cni","socket":"%s"}' "$SOCK"; }
conf_bridge() {
	printf '{"cniVersion":"1.0.0","name":"rnet","type":"bridge","bridge":"bbref0","isGateway":true,"ipMasq":true,"ipam":{"type":"host-local","dataDir":"%s","routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"10.131.0.0/16","gateway":"10.131.0.1"}]]}}' "$BB_DIR/ipam"
}
nv_json() { # i
	local i=$1
	cat << EOF
{"container_id": "$(cid "$i")", "container_name": "c$i",
 "networks": {"nvnet": {"interface_name": "eth2", "static_ips": ["10.132.$((i / 250)).$((i % 250 + 2))"]}},
 "network_info": {"nvnet": {"name": "nvnet", "id": "b000000000000000000000000000000000000000000000000000000000000001",
   "driver": "bridge", "network_interface": "bbnv0", "subnets": [{"subnet": "10.132.0.0/16", "gateway": "10.132.0.1"}],
   "ipv6_enabled": false, "internal": false, "dns_enabled": false, "ipam_options": {"driver": "host-local"}}}}
EOF
}
ns_of() { # SYSTEM I: the measured namespace (0), the shared first one (1), or the system's own
	case $2 in
	0) echo "/run/netns/$BB_ID-m" ;;
	1) echo "/run/netns/$BB_ID-c1" ;;
	*) echo "/run/netns/$BB_ID-$1$2" ;;
	esac
}

# tm SYSTEM ADD|DEL I: one call; prints its wall time in µs; the result of an ADD is kept for DEL.
tm() {
	local sys=$1 cmd=$2 i=$3 t0 t1 rc in out=$BB_DIR/out.$1.$3
	case $sys in
	berth) in=$(conf_berth) ;;
	bridge) in=$(conf_bridge) ;;
	netavark) nv_json "$i" > "$BB_DIR/nv.$i.json" ;;
	esac
	if [ "$cmd" = DEL ] && [ "$sys" != netavark ]; then
		in=$(jq -c --slurpfile p "$out" '. + {prevResult: $p[0]}' <<< "$in")
	fi
	t0=$EPOCHREALTIME
	case $sys in
	netavark)
		bb_in bh "$NV" --config "$BB_DIR/nv" "$([ "$cmd" = ADD ] && echo setup || echo teardown)" \
			"$(ns_of "$sys" "$i")" < "$BB_DIR/nv.$i.json" > "$BB_DIR/nv.out" 2>&1; rc=$? ;;
	*)
		local ifn=eth0 bin=$CNI
		[ "$sys" = bridge ] && ifn=eth1 bin=$REF/bridge
		CNI_COMMAND=$cmd CNI_CONTAINERID=$(cid "$i") CNI_NETNS=$(ns_of "$sys" "$i") CNI_IFNAME=$ifn \
			CNI_PATH=$REF bb_in bh "$bin" <<< "$in" > "$out.new"; rc=$? ;;
	esac
	t1=$EPOCHREALTIME
	[ $rc = 0 ] || { cat "$out.new" "$BB_DIR/nv.out" 2> /dev/null | tail -5 >&2; bb_die "$sys $cmd $i failed"; }
	[ "$cmd" = ADD ] && [ "$sys" != netavark ] && mv "$out.new" "$out"
	echo $(($(bb_us "$t1") - $(bb_us "$t0")))
}

# srv_times FROM TAG: berthd's own time (its log) for the ADDs and DELs since line FROM.
srv_times() {
	tail -n +"$1" "$BB_DIR/berthd.log" | awk '/api: POST \/cni\/add 200/ {sub("us", "", $NF); print $NF}' |
		tail -n "$OPS" > "$RESULTS/berthd.$2.add"
	tail -n +"$1" "$BB_DIR/berthd.log" | awk '/api: POST \/cni\/del 204/ {sub("us", "", $NF); print $NF}' |
		tail -n "$OPS" > "$RESULTS/berthd.$2.del"
}

# measure TAG SYSTEM...: OPS ADD+DEL cycles of the measured namespace for each system, in turn
# (2 warm-up cycles first).
measure() {
	local tag=$1 sys k l0=$(($(wc -l < "$BB_DIR/berthd.log") + 1))
	shift
	for sys in "$@"; do
		: > "$RESULTS/$sys.$tag.add"; : > "$RESULTS/$sys.$tag.del"
		for k in 1 2; do tm "$sys" ADD 0 > /dev/null; tm "$sys" DEL 0 > /dev/null; done
	done
	for k in $(seq "$OPS"); do
		for sys in "$@"; do
			tm "$sys" ADD 0 >> "$RESULTS/$sys.$tag.add"
			tm "$sys" DEL 0 >> "$RESULTS/$sys.$tag.del"
		done
	done
	[[ " $* " == *" berth "* ]] && srv_times "$l0" "$tag"
	return 0
}

populate() { # SYSTEM FROM TO: attach namespaces FROM..TO (untimed; 1 is shared by the three)
	local i ns
	for i in $(seq "$2" "$3"); do
		ns=$1$i; [ "$i" = 1 ] && ns=c1
		[ -e "/run/netns/$BB_ID-$ns" ] || bb_netns "$ns" || bb_die "cannot create namespace $ns"
		tm "$1" ADD "$i" > /dev/null
	done
}

# unpopulate SYSTEM: its attachments 2..N go (berth: GC keeping 1; the others: namespaces deleted).
unpopulate() {
	local i
	if [ "$1" = berth ]; then
		jq -c --arg c "$(cid 1)" '. + {cniVersion: "1.1.0", "cni.dev/valid-attachments": [{containerID: $c, ifname: "eth0"}]}' <<< "$(conf_berth)" |
			CNI_COMMAND=GC CNI_PATH=$REF bb_in bh "$CNI" > /dev/null || bb_die "GC failed"
	fi
	for i in $(seq 2 "$N"); do ip netns del "$BB_ID-$1$i" 2> /dev/null; done
}

start_berthd() {
	bb_in bh "$BERTHD" --root "$BB_DIR/root" --run "$BB_DIR/run" --socket "$SOCK" \
		--log-level debug > "$BB_DIR/berthd.log" 2>&1 &
	BERTHD_PID=$!
	local deadline=$((SECONDS + 20))
	until curl -sf --unix-socket "$SOCK" http://x/_ping > /dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] && kill -0 "$BERTHD_PID" 2> /dev/null || bb_die "berthd did not come up"
		sleep 0.05
	done
}

row() { # LABEL TAG
	local s p a d
	printf '| %s |' "$1"
	for s in berth bridge netavark; do
		read -r p a _ < <(bb_pct "$RESULTS/$s.$2.add")
		read -r d b _ < <(bb_pct "$RESULTS/$s.$2.del")
		printf ' %s / %s | %s / %s |' "$p" "$a" "$d" "$b"
	done
	echo
}

# ---------- 1. direct plugin calls ----------
bb_netns bh && bb_netns m || bb_die "cannot create namespaces"
mkdir -p "$BB_DIR/nv"
start_berthd
BERTH_HOST=unix://$SOCK "$BERTH" network create --subnet 10.130.0.0/16 bnet > /dev/null || bb_die "network create"
bb_say "# CNI ADD/DEL: berth-cni vs bridge + host-local vs netavark; $(bb_machine)"
bb_say "# containernetworking-plugins $(dpkg-query -W -f='${Version}' containernetworking-plugins), netavark $("$NV" --version | awk '{print $2}'), $OPS cycles per point, N=$N"
for s in berth bridge netavark; do populate $s 1 1; done
measure n1 berth bridge netavark
for s in berth bridge netavark; do
	T0=$SECONDS
	populate $s 2 "$N"
	bb_say "# $s: attached $((N - 1)) more in $((SECONDS - T0)) s"
	measure "n$N" $s
	unpopulate $s
done
bb_say ""
bb_say "| attachments on the network | berth-cni ADD p50 / p99 ms | DEL p50 / p99 ms | bridge+host-local ADD | DEL | netavark setup | teardown |"
bb_say "|---|---|---|---|---|---|---|"
row 1 n1
row "$N" "n$N"
B1=$(bb_p50 "$RESULTS/berth.n1.add") BN=$(bb_p50 "$RESULTS/berth.n$N.add")
R1=$(bb_p50 "$RESULTS/bridge.n1.add") RN=$(bb_p50 "$RESULTS/bridge.n$N.add")
bb_say ""
for t in n1 "n$N"; do
	read -r a b _ < <(bb_pct "$RESULTS/berthd.$t.add")
	read -r c d _ < <(bb_pct "$RESULTS/berthd.$t.del")
	bb_say "berthd's own time (its log), ${t#n} on the network: ADD p50 $a / p99 $b ms, DEL p50 $c / p99 $d ms"
done
bb_say "berth-cni ADD / bridge ADD: $(bb_calc "$B1 / $R1") at 1, $(bb_calc "$BN / $RN") at $N (target <= 0.2); berth-cni ADD at $N / at 1: $(bb_calc "$BN / $B1")"

# ---------- 2. podman network connect / disconnect ----------
# pod SYSTEM podman-args...: podman with private storage and configuration, in namespace bh.
pod() {
	local d=$BB_DIR/pod-$1; shift
	CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf \
		nsenter --net="/run/netns/$H" podman --root "$d/root" --runroot "$d/runroot" "$@"
}
pod_env() { # SYSTEM BACKEND NETDIR
	local d=$BB_DIR/pod-$1
	mkdir -p "$d"/{root,runroot,tmp,bin} "$3"
	ln -sf "$CNI" "$d/bin/berth-cni"
	cat > "$d/containers.conf" << EOF
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
[network]
network_backend = "$2"
cni_plugin_dirs = ["$d/bin", "/usr/lib/cni"]
network_config_dir = "$3"
default_subnet = "10.140.0.0/24"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "$d/tmp"
lock_type = "file"
EOF
	printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/root"\nrunroot = "%s/runroot"\n' "$d" "$d" > "$d/storage.conf"
	pod "$1" import "$BB_DIR/img.tar" bbx > /dev/null || bb_die "podman import ($1)"
}
pod_cycle() { # SYSTEM NET1 NET2
	local k t0 t1 t2
	pod "$1" run -d --name b1 --network "$2" bbx sleep 1d > /dev/null || bb_die "podman run ($1)"
	: > "$RESULTS/podman.$1.connect"; : > "$RESULTS/podman.$1.disconnect"
	for k in $(seq $((PODMAN_OPS + 2))); do
		t0=$EPOCHREALTIME
		pod "$1" network connect "$3" b1 || bb_die "podman network connect ($1)"
		t1=$EPOCHREALTIME
		pod "$1" network disconnect "$3" b1 || bb_die "podman network disconnect ($1)"
		t2=$EPOCHREALTIME
		[ "$k" -le 2 ] && continue
		echo $(($(bb_us "$t1") - $(bb_us "$t0"))) >> "$RESULTS/podman.$1.connect"
		echo $(($(bb_us "$t2") - $(bb_us "$t1"))) >> "$RESULTS/podman.$1.disconnect"
	done
	pod "$1" rm -f -t 0 b1 > /dev/null
}
mkdir -p "$BB_DIR/img/bin"
cp /usr/bin/busybox "$BB_DIR/img/bin/" && ln -s busybox "$BB_DIR/img/bin/sleep" && ln -s busybox "$BB_DIR/img/bin/sh"
tar -C "$BB_DIR/img" -cf "$BB_DIR/img.tar" .
BERTH_HOST=unix://$SOCK "$BERTH" network create --subnet 10.141.0.0/24 pb1 > /dev/null &&
	BERTH_HOST=unix://$SOCK "$BERTH" network create --subnet 10.142.0.0/24 pb2 > /dev/null || bb_die "network create"
pod_env berth cni "$BERTH_CNI_CONFIG_DIR"
pod_env bridge cni "$BB_DIR/pod-bridge/nets"
pod_env netavark netavark "$BB_DIR/pod-netavark/nets"
for s in bridge netavark; do
	pod $s network create --subnet 10.143.0.0/24 pb1 > /dev/null &&
		pod $s network create --subnet 10.144.0.0/24 pb2 > /dev/null || bb_die "podman network create ($s)"
done
# host-local keeps its leases in /var/lib/cni/networks unless told otherwise: here, in BB_DIR
for f in "$BB_DIR"/pod-bridge/nets/*.conflist; do
	jq --arg d "$BB_DIR/pod-ipam" '(.plugins[] | select(.ipam) | .ipam.dataDir) = $d' "$f" > "$f.new" && mv "$f.new" "$f"
done
for s in berth bridge netavark; do pod_cycle $s pb1 pb2; done
bb_say ""
bb_say "# podman 4.3 network connect / disconnect of a running container ($PODMAN_OPS each, whole podman process)"
bb_say "| backend | connect p50 / p99 ms | disconnect p50 / p99 ms |"
bb_say "|---|---|---|"
for s in berth bridge netavark; do
	read -r cp cq _ < <(bb_pct "$RESULTS/podman.$s.connect")
	read -r dp dq _ < <(bb_pct "$RESULTS/podman.$s.disconnect")
	label=$s; [ $s = berth ] && label="CNI: berth-cni"; [ $s = bridge ] && label="CNI: bridge (podman's conflist)"
	bb_say "| $label | $cp / $cq | $dp / $dq |"
done
