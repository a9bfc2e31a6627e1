#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Why ARP fails in one L2 domain of thousands of veth ports, and what berth does about it
# (daemon/mgr_spill_nd.c). No berth involved: B bridges of N veth ports each, br1.. joined to br0
# by trunk veths as berth spills a network, in private namespaces sc-<pid>-*, IPv6 off. A client
# on br0 asks (busybox arping) for a target on the last bridge, one request at a time; the
# per-CPU input backlog drops (the devices' rx_dropped) are counted around each.
#   N=1000 B=3 bench/start/arpflood.sh          the flood: every request copied to every port
#   N=1000 B=3 FIX=1 bench/start/arpflood.sh    berth's answer: both trunk ends suppress
#       neighbour requests, br0 holds the target's neighbour entry and a static forwarding
#       entry toward its trunk, so br0 answers and floods the request to its own ports only
# (a bridge takes at most 1,023 ports). Needs root, ip, bridge, jq, busybox.
N=${N:-1000}
B=${B:-3}
P=sc-$$
ip netns add $P-h || exit 1
ip netns add $P-c || exit 1
ip netns add $P-t || exit 1
trap 'ip netns del $P-h; ip netns del $P-c; ip netns del $P-t' EXIT
H="nsenter --net=/run/netns/$P-h"
C="nsenter --net=/run/netns/$P-c"
T="nsenter --net=/run/netns/$P-t"
$H ip link set lo up
$H sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
last=$((B - 1))
batch=$(mktemp)
for b in $(seq 0 $last); do
	echo "link add br$b type bridge"
	echo "link set br$b up"
	if [ $b -gt 0 ]; then
		echo "link add t$b type veth peer name u$b"
		echo "link set t$b master br0"; echo "link set u$b master br$b"
		echo "link set t$b up"; echo "link set u$b up"
	fi
	for i in $(seq $N); do
		echo "link add p$b.$i type veth peer name q$b.$i"
		echo "link set p$b.$i master br$b"
		echo "link set p$b.$i up"
		echo "link set q$b.$i up"
	done
done >"$batch"
$H ip -batch "$batch" || exit 1
rm -f "$batch"
# the client (10.99.0.1, namespace c) on br0 and the target (10.99.0.2, namespace t) on the last
# bridge
$H ip link add cli type veth peer name cli2 netns $P-c
$H ip link add tgt type veth peer name tgt2 netns $P-t
$H ip link set cli master br0; $H ip link set cli up
$H ip link set tgt master br$last; $H ip link set tgt up
$C ip link set cli2 up; $C ip addr add 10.99.0.1/16 dev cli2
$T ip link set tgt2 up; $T ip addr add 10.99.0.2/16 dev tgt2
if [ "${FIX:-0}" = 1 ] && [ $last -gt 0 ]; then
	mac=$($T ip -br link show dev tgt2 | awk '{print $3}')
	for b in $(seq 1 $last); do
		$H ip link set t$b type bridge_slave neigh_suppress on
		$H ip link set u$b type bridge_slave neigh_suppress on
	done
	$H ip neigh replace 10.99.0.2 lladdr "$mac" dev br0 nud permanent
	$H bridge fdb replace "$mac" dev t$last master static
fi
# Drops of this bench only: a copy the backlog refuses counts in the receiving device's
# rx_dropped (the machine-wide /proc/net/softnet_stat also counts other processes' traffic).
drops() { $H ip -s -j link show | jq '[.[].stats64.rx.dropped] | add'; }
# copies of the request delivered to the ports of the last bridge
seen() { $H ip -s -j link show | jq --arg b "q$last." '[.[] | select(.ifname | startswith($b)) |
	.stats64.rx.packets] | add'; }
for k in 1 2 3; do
	d0=$(drops); sleep 1; d1=$(drops)   # what other traffic drops meanwhile
	echo "  baseline, 1 s without a request: backlog drops $((d1 - d0))"
	d0=$(drops); s0=$(seen)
	ok=$($C busybox arping -c1 -w1 -I cli2 10.99.0.2 2>/dev/null | grep -c reply)
	d1=$(drops); s1=$(seen)
	echo "bridges=$B x ports=$N fix=${FIX:-0} request $k: answered=$ok backlog drops" \
		"$((d1 - d0)), frames reaching the last bridge's $N ports $((s1 - s0))"
done
