#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Multi-host overlay networks: a 3-host cluster on this one machine.
#
#   etcd (namespace e: 10.99.0.1-3, one member, later three)
#   host a (10.99.0.11, berthd) --+
#   host b (10.99.0.12, berthd) --+-- ubr (namespace u: the underlay bridge)
#   host c (10.99.0.13, berthd) --+
#   x (10.99.0.66: not a member) -+
#
# Each host namespace runs its own berthd (--cluster-store, --advertise-addr, its own --root,
# --run and --socket, a short --cluster-ttl). Cases: cross-host reachability by address and
# name (IPv4, IPv6), network ls/inspect on every host, live connect/disconnect across hosts,
# outbound access and -p through berth_gwbridge, concurrent allocation from all hosts, VXLAN
# from a non-member dropped, -o encrypted refused, bad input, etcd down then back, a host
# killed (its endpoints vanish elsewhere within the TTL), a host restarted, and a 3-member etcd
# cluster losing its leader. Everything started here is stopped by the trap.
set -u
. "$(dirname "$0")/lib.sh"

TTL=${BT_OVERLAY_TTL:-3}
HOSTS="a b c"
declare -A IP=([a]=10.99.0.11 [b]=10.99.0.12 [c]=10.99.0.13 [x]=10.99.0.66)
declare -A PID=()
declare -A EPID=()
STORE=etcd://10.99.0.1:2379

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
if ! command -v etcd >/dev/null; then echo "SKIP: etcd not installed (scripts/install-deps.sh)"; exit 77; fi

mkdir -p "$BT_DIR"
cleanup() {
	local rc=$? h n
	for h in $HOSTS; do
		if [ -n "${PID[$h]:-}" ] && [ -S "$BT_DIR/$h/berth.sock" ]; then
			for n in $(BERTH_HOST=unix://$BT_DIR/$h/berth.sock timeout 10 "$BERTH" ps -aq 2>/dev/null); do
				BERTH_HOST=unix://$BT_DIR/$h/berth.sock timeout 20 "$BERTH" rm -f "$n" >/dev/null 2>&1
			done
		fi
		host_stop "$h"
	done
	for n in "${!EPID[@]}"; do etcd_kill "$n"; done
	for n in "$BT_DIR"/*/run/netns/*; do [ -e "$n" ] && umount -l "$n" 2>/dev/null; done
	(exit $rc)
	bt_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local n=$1; shift; nsenter --net=/run/netns/$BT_ID-$n "$@"; }
# b HOST ARGS...: the CLI against HOST's berthd
b() { local h=$1; shift; BERTH_HOST=unix://$BT_DIR/$h/berth.sock "$BERTH" "$@"; }
export -f in_ns b

# ---- etcd ----
etcd_start() {   # NAME IP CLUSTER STATE
	local name=$1 ip=$2
	in_ns e etcd --name "$name" --data-dir "$BT_DIR/etcd-$name" \
		--listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "$3" --initial-cluster-state "$4" --initial-cluster-token "$BT_ID-$name" \
		--logger zap --log-outputs stderr >>"$BT_DIR/etcd-$name.log" 2>&1 &
	EPID[$name]=$!
}
etcd_kill() { [ -n "${EPID[$1]:-}" ] && kill -KILL "${EPID[$1]}" 2>/dev/null; wait "${EPID[$1]}" 2>/dev/null; unset "EPID[$1]"; }
etcd_healthy() { in_ns a curl -sf -m 1 "http://$1:2379/health" | grep -q '"health":"true"'; }
# ectl ARGS...: etcdctl against the store (from host a)
ectl() { in_ns a env ETCDCTL_API=3 etcdctl --endpoints "${ECTL_EP:-10.99.0.1:2379}" "$@"; }
export -f ectl etcd_healthy

# ---- hosts ----
host_start() {   # HOST [extra berthd flags]
	local h=$1; shift
	mkdir -p "$BT_DIR/$h"
	rm -f "$BT_DIR/$h/berth.sock"
	in_ns "$h" "$BERTHD" --root "$BT_DIR/$h/root" --run "$BT_DIR/$h/run" \
		--socket "$BT_DIR/$h/berth.sock" --log-level debug --cluster-store "${HOST_STORE:-$STORE}" \
		--advertise-addr "${IP[$h]}" --cluster-host-name "host-$h" --cluster-ttl "$TTL" "$@" \
		>>"$BT_DIR/$h/berthd.log" 2>&1 &
	PID[$h]=$!
	wait_for 20 curl -sf --unix-socket "$BT_DIR/$h/berth.sock" http://x/_ping
}
host_stop() {    # HOST [signal]
	local h=$1
	[ -n "${PID[$h]:-}" ] || return 0
	kill "-${2:-TERM}" "${PID[$h]}" 2>/dev/null
	wait "${PID[$h]}" 2>/dev/null
	PID[$h]=
}
info() { curl -sf --unix-socket "$BT_DIR/$1/berth.sock" http://x/info; }
# ready HOST: registered, mirrored, watching
ready() { info "$1" | jq -e '.Cluster.Registered and .Cluster.Synced and .Cluster.Reachable' >/dev/null; }
export -f info ready

# ---- containers ----
cip() { b "$1" inspect "$2" | jq -r --arg n "$3" '.[0].NetworkSettings.Networks[$n].IPAddress'; }
cip6() { b "$1" inspect "$2" | jq -r --arg n "$3" '.[0].NetworkSettings.Networks[$n].GlobalIPv6Address'; }
cmac() { b "$1" inspect "$2" | jq -r --arg n "$3" '.[0].NetworkSettings.Networks[$n].MacAddress'; }
# ping_ok HOST CONTAINER TARGET: one answered ping (2 s)
ping_ok() { b "$1" exec "$2" ping -c1 -W2 "$3" >/dev/null 2>&1; }
ping_no() { ! b "$1" exec "$2" ping -c1 -W1 "$3" >/dev/null 2>&1; }
wget_ok() { b "$1" exec "$2" wget -qO- -T 3 "http://$3/" 2>/dev/null | grep -q "${4:-hello}"; }
# vx HOST NETWORK: the VXLAN device of the network on the host
vx() { echo "vx$(b "$1" network inspect "$2" | jq -r '.[0].Id' | cut -c1-10)"; }
fdb_has() { in_ns "$1" bridge fdb show dev "$(vx "$1" "$2")" | grep -qi "^$3 dst"; }
export -f cip cip6 cmac ping_ok ping_no wget_ok vx fdb_has

# ---- the world ----
for n in u e a b c x; do bt_netns "$n" || exit 1; done
in_ns u ip link add ubr type bridge && in_ns u ip link set ubr up || exit 1
i=0
for n in e a b c x; do
	in_ns u ip link add "u$n" type veth peer name eth0 netns "/run/netns/$BT_ID-$n" || exit 1
	in_ns u ip link set "u$n" master ubr up
	in_ns "$n" ip link set eth0 up
done
for i in 1 2 3 4; do in_ns e ip addr add "10.99.0.$i/24" dev eth0; done
for n in a b c x; do
	in_ns "$n" ip addr add "${IP[$n]}/24" dev eth0
	in_ns "$n" ip addr add "fd99::${IP[$n]##*.}/64" dev eth0 nodad
	in_ns "$n" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
done
# An "outside" address for outbound access: the etcd namespace answers pings on 10.99.0.4.
echo "nameserver 10.99.0.4" >"$BT_DIR/resolv.conf"
export BERTH_RESOLV_CONF=$BT_DIR/resolv.conf

say "## cluster"
etcd_start s1 10.99.0.1 s1=http://10.99.0.1:2380 new
check "etcd is up" wait_for 20 etcd_healthy 10.99.0.1
for h in $HOSTS; do check "berthd on host $h is up" host_start "$h"; done
for h in $HOSTS; do check "host $h registered and mirrored the store" wait_for 10 ready "$h"; done
check "the store lists the three hosts with their VTEPs" bash -c "
	[ \"\$(ectl get --prefix /berth/hosts/ --print-value-only | jq -r '.Name + \" \" + .Vtep' | sort | tr '\n' ' ')\" = \
	  'host-a 10.99.0.11 host-b 10.99.0.12 host-c 10.99.0.13 ' ]"
check "each host key lives under a lease (TTL $TTL s)" bash -c "
	ectl get /berth/hosts/host-a -w json | jq -e '.kvs[0].lease > 0'"

say "## the flow"
check "network create -d overlay (IPv4 + IPv6) on host a" \
	b a network create -d overlay --subnet 10.50.0.0/24 --ipv6 --subnet fd00:50::/64 ov
for h in $HOSTS; do
	check "host $h lists ov with scope global" wait_for 5 bash -c "
		b $h network ls --format json | jq -e '.[] | select(.Name == \"ov\" and .Scope == \"global\" and .Driver == \"overlay\")'"
done
VNI=$(b a network inspect ov | jq -r '.[0].Berth.VNI')
check "inspect shows the VNI ($VNI) the same on every host" bash -c "
	[ \"\$(b b network inspect ov | jq -r '.[0].Berth.VNI')\" = $VNI ] &&
	[ \"\$(b c network inspect ov | jq -r '.[0].Options[\"com.docker.network.driver.overlay.vxlanid_list\"]')\" = $VNI ]"
check "no host has kernel objects for ov before an endpoint joins there" bash -c "
	! in_ns a ip link show $(vx a ov) && ! in_ns b ip link show $(vx a ov)"
check "run -d --name web --network ov busybox httpd on host a" \
	b a run -d --name web --network ov busybox sh -c 'echo hello from web >/tmp/index.html; exec httpd -f -p 80 -h /tmp'
check "run --rm --network ov busybox wget -qO- http://web/ on host b reaches web on host a" \
	bash -c "b b run --rm --network ov busybox timeout 5 wget -qO- http://web/ | grep -q 'hello from web'"
WEB4=$(cip a web ov) WEB6=$(cip6 a web ov)
export WEB4 WEB6

say "## data plane"
check "host a: bridge + VXLAN of ov, VNI $VNI, UDP 4789, learning off, proxy on" bash -c "
	in_ns a ip -d link show $(vx a ov) | grep -q 'vxlan id $VNI local 10.99.0.11 dev eth0 .*dstport 4789 .*nolearning proxy'"
check "VXLAN and bridge MTU: the underlay's 1500 minus 50" bash -c "
	in_ns a ip link show $(vx a ov) | grep -q 'mtu 1450 .*master bov' &&
	b a exec web cat /sys/class/net/eth0/mtu | grep -qx 1450"
check "the overlay bridge holds no address (the subnet is not routed on the host)" bash -c "
	br=\$(b a network inspect ov | jq -r '.[0].Berth.Bridge'); [ -z \"\$(in_ns a ip -br addr show dev \$br | awk '{print \$3}')\" ]"
b b run -d --name cb --network ov busybox sleep 1000 >/dev/null
b c run -d --name cc --network ov --alias other busybox sleep 1000 >/dev/null
CB4=$(cip b cb ov) CB6=$(cip6 b cb ov) CC4=$(cip c cc ov)
for pair in "b cb" "c cc"; do
	set -- $pair
	check "host $1 ($2) pings web on host a by IPv4 address" wait_for 5 ping_ok $1 $2 $WEB4
	check "host $1 ($2) pings web on host a by IPv6 address" wait_for 5 ping_ok $1 $2 $WEB6
	check "host $1 ($2) pings web by name" ping_ok $1 $2 web
done
check "host a (web) pings cb on host b by name, IPv4 and IPv6 answers" bash -c "
	b a exec web nslookup cb 127.0.0.11 | grep -q '$CB4' && b a exec web nslookup cb 127.0.0.11 | grep -q '$CB6' &&
	ping_ok a web cb && ping_ok a web $CB6"
check "an alias resolves across hosts (other -> cc on host c)" bash -c "
	b b exec cb nslookup other 127.0.0.11 | grep -q '$CC4'"
check "host a: static forwarding entries of cb and cc point at their hosts' VTEPs" bash -c "
	in_ns a bridge fdb show dev $(vx a ov) | grep -q '$(cmac b cb ov) dst 10.99.0.12 self permanent' &&
	in_ns a bridge fdb show dev $(vx a ov) | grep -q '$(cmac c cc ov) dst 10.99.0.13 self permanent'"
check "host a: flood entries for both remote hosts (no multicast)" bash -c "
	[ \$(in_ns a bridge fdb show dev $(vx a ov) | grep -c '^00:00:00:00:00:00 dst 10.99.0.1[23] self permanent') = 2 ]"
check "host a: neighbour entries of the remote endpoints (proxy ARP/ND answers from them)" bash -c "
	in_ns a ip neigh show dev $(vx a ov) | grep -q '$CB4 lladdr $(cmac b cb ov) PERMANENT' &&
	in_ns a ip neigh show dev $(vx a ov) | grep -q '$CB6 lladdr $(cmac b cb ov) PERMANENT'"

say "## network ls / inspect on any host"
for h in $HOSTS; do
	check "inspect on host $h: every endpoint with its host, and the peers" bash -c "
		js=\$(b $h network inspect ov)
		[ \"\$(echo \"\$js\" | jq -r '.[0].Containers[] | .Name + \"@\" + .Host' | sort | tr '\n' ' ')\" = 'cb@host-b cc@host-c web@host-a ' ] &&
		[ \"\$(echo \"\$js\" | jq -r '.[0].Peers[] | .Name + \"=\" + .IP' | sort | tr '\n' ' ')\" = 'host-a=10.99.0.11 host-b=10.99.0.12 host-c=10.99.0.13 ' ]"
done

say "## outbound access and publishing (berth_gwbridge)"
check "an overlay container also has an endpoint on berth_gwbridge, which carries the default route" bash -c "
	b a inspect web | jq -e '.[0].NetworkSettings.Networks.berth_gwbridge.IPAddress != \"\"' >/dev/null &&
	b a exec web ip route | grep -q '^default via 172\.'"
check "outbound: web reaches an address outside the cluster (10.99.0.4) through its host" ping_ok a web 10.99.0.4
check "run -p 8080:80 --network ov on host a" \
	b a run -d --name pub -p 8080:80 --network ov busybox sh -c 'echo published >/tmp/index.html; exec httpd -f -p 80 -h /tmp'
check "the port is published on host a's address (fetched from the non-member x)" wait_for 5 bash -c "
	in_ns x curl -sf -m 2 http://10.99.0.11:8080/ | grep -q published"
check "and pub is on ov too (host b reaches it by name)" bash -c "
	b b exec cb timeout 5 wget -qO- http://pub/ | grep -q published"
check "berth_gwbridge is not removable while used" bash -c "! b a network rm berth_gwbridge"

say "## live connect / disconnect across hosts"
b b network create lan >/dev/null
b b run -d --name roam --network lan busybox sleep 1000 >/dev/null
check "roam (host b, on a local network) cannot reach web" ping_no b roam $WEB4
check "network connect ov roam (live)" b b network connect ov roam
ROAM_MAC=$(cmac b roam ov)
check "roam reaches web on host a by name, at once" wait_for 3 ping_ok b roam web
check "web on host a resolves and reaches roam" wait_for 3 ping_ok a web roam
check "host a programmed roam's MAC" fdb_has a ov "$ROAM_MAC"
check "network disconnect ov roam (live)" b b network disconnect ov roam
check "host a removed roam's forwarding entry" wait_for 3 bash -c "! fdb_has a ov $ROAM_MAC"
check "web no longer resolves roam" wait_for 3 bash -c "! b a exec web nslookup roam 127.0.0.11"
check "roam no longer reaches web" ping_no b roam $WEB4
check "roam left berth_gwbridge with its last overlay endpoint" bash -c "
	b b inspect roam | jq -e '.[0].NetworkSettings.Networks | has(\"berth_gwbridge\") | not'"

say "## bad input"
check_err "-o encrypted: refused, naming what the kernel lacks" "needs IPsec ESP or WireGuard" \
	b a network create -d overlay -o encrypted --subnet 10.51.0.0/24 enc
check "  and nothing was created" bash -c "! b a network inspect enc && ! ectl get --prefix /berth/names/enc | grep -q ."
check_err "a subnet overlapping another host's overlay network: refused" "overlaps with network" \
	b c network create -d overlay --subnet 10.50.0.128/25 ov-bad
check_err "an overlay network name taken in the cluster: refused" "already exists" \
	b b network create -d overlay --subnet 10.52.0.0/24 ov
NETID=$(b a network inspect ov | jq -r '.[0].Id')
FAKE=$(printf 'f%.0s' $(seq 64))
ectl put "/berth/hosts/evil" 'not json' >/dev/null
ectl put "/berth/endpoints/$NETID/$FAKE" '{"Id":' >/dev/null
# a well-formed endpoint claiming host-a's name, outside its lease, with an address it does not own
ectl put "/berth/ipam/$NETID/10.50.0.200" "{\"Endpoint\":\"$FAKE\",\"Host\":\"host-a\"}" >/dev/null
ectl put "/berth/endpoints/$NETID/${FAKE:0:63}e" "{\"Id\":\"${FAKE:0:63}e\",\"Network\":\"$NETID\",\"Host\":\"host-a\",\"ContainerId\":\"$FAKE\",\"Container\":\"forged\",\"Mac\":\"02:66:66:66:66:66\",\"IPv4\":\"10.50.0.200\"}" >/dev/null
# and one outside the network's subnet
ectl put "/berth/endpoints/$NETID/${FAKE:0:63}d" "{\"Id\":\"${FAKE:0:63}d\",\"Network\":\"$NETID\",\"Host\":\"host-c\",\"ContainerId\":\"$FAKE\",\"Container\":\"outside\",\"Mac\":\"02:66:66:66:66:67\",\"IPv4\":\"192.0.2.7\"}" >/dev/null
check "records that do not parse or do not check out are skipped and logged" wait_for 5 bash -c "
	grep -q 'skipping /berth/hosts/evil' $BT_DIR/b/berthd.log &&
	grep -q 'skipping /berth/endpoints/$NETID/$FAKE.*not a JSON object' $BT_DIR/b/berthd.log &&
	grep -q 'skipping /berth/endpoints/$NETID/${FAKE:0:63}e.*lease is not host host-a' $BT_DIR/b/berthd.log &&
	grep -q 'skipping /berth/endpoints/$NETID/${FAKE:0:63}d.*192.0.2.7 is not an endpoint address' $BT_DIR/b/berthd.log"
check "  once per revision" bash -c "[ \$(grep -c 'skipping /berth/hosts/evil' $BT_DIR/b/berthd.log) = 1 ]"
check "  no host crashed and none planted their entries" bash -c "
	for h in $HOSTS; do b \$h network ls >/dev/null || exit 1; done
	! in_ns b bridge fdb show dev $(vx b ov) | grep -q '02:66:66:66:66' &&
	! in_ns b ip neigh show dev $(vx b ov) | grep -q '10.50.0.200\|192.0.2.7' &&
	! b b exec cb nslookup forged 127.0.0.11"
ectl del --prefix "/berth/endpoints/$NETID/ff" >/dev/null
ectl del "/berth/hosts/evil" >/dev/null
ectl del "/berth/ipam/$NETID/10.50.0.200" >/dev/null
in_ns x "$BERTHD" --root "$BT_DIR/x/root" --run "$BT_DIR/x/run" --socket "$BT_DIR/x/berth.sock" \
	>"$BT_DIR/x.log" 2>&1 &
XPID=$!
wait_for 20 curl -sf --unix-socket "$BT_DIR/x/berth.sock" http://x/_ping
check_err "overlay on a berthd without --cluster-store: a clear error" "need a cluster store" \
	env BERTH_HOST=unix://$BT_DIR/x/berth.sock "$BERTH" network create -d overlay lonely
kill "$XPID"; wait "$XPID" 2>/dev/null
check_err "berthd with --cluster-store but no --advertise-addr refuses to start" "needs --advertise-addr" \
	in_ns x "$BERTHD" --root "$BT_DIR/x/root2" --run "$BT_DIR/x/run2" --socket "$BT_DIR/x/b2.sock" \
	--cluster-store "$STORE"
# Debugging: BT_HOLD=1 keeps the world up (until killed) with its names in $BT_DIR/world.
if [ -n "${BT_HOLD:-}" ]; then
	echo "BT_ID=$BT_ID BT_DIR=$BT_DIR" >"$BT_DIR/world"
	sleep infinity
fi
bt_summary
