#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# System test of the overlay's kernel primitives (netlink/vxlan.c, netlink/neigh.c) on a real
# two-host topology, run once over an IPv4 underlay and once over an IPv6 one:
#
#   ca --veth-- host a [br0 + vx0] --ul--+
#                                         +-- ubr (namespace u) --ul-- host b [br0 + vx0] --veth-- cb
#   host x (not a member)  ---------ul---+
#
# VXLAN devices without learning and with proxy, static forwarding entries (remote container
# MAC -> remote VTEP, and the flood list), static neighbour entries (remote container IPs ->
# MAC): containers reach each other over IPv4 and IPv6, ARP and ND are answered on the sending
# host (nft counters on the underlay see no ARP and no neighbour solicitation cross), deleting
# entries breaks reachability and re-adding restores it, every operation runs twice, listings
# return what was added. Also measures the cost of each operation. Needs root.
. "$(dirname "$0")/lib.sh"

NT=${NLTEST:-$TOP/build/tests/helpers/nltest}
VNI=4242
MAC_A=02:42:0a:c8:00:0a
MAC_B=02:42:0a:c8:00:0b
MAC_X=02:42:0a:c8:00:63
IP4_A=10.200.0.10
IP4_B=10.200.0.11
IP4_X=10.200.0.99
IP6_A=fd00:200::10
IP6_B=fd00:200::11
ZERO=00:00:00:00:00:00
SOCAT_PID=

if [ "$(id -u)" != 0 ]; then echo "SKIP: test_vxlan.sh needs root"; exit 77; fi
if [ ! -x "$NT" ]; then echo "SKIP: $NT not built (set NLTEST)"; exit 77; fi

NSS="u a b x ca cb"
# Nothing but pings bounded by -W and the socat started below runs in our namespaces.
cleanup() {
	local rc=$? n
	[ -n "$SOCAT_PID" ] && kill "$SOCAT_PID" 2>/dev/null
	for n in $NSS; do ip netns del "$BT_ID-$n" 2>/dev/null; done
	[ "${BT_KEEP:-0}" = 1 ] || rm -rf "$BT_DIR"
	exit $rc
}
mkdir -p "$BT_DIR"
trap cleanup EXIT
trap 'exit 130' INT TERM
OUT=$BT_DIR/out

in_ns() { local n=$1; shift; nsenter --net=/run/netns/$BT_ID-$n "$@"; }
A() { in_ns a "$@"; }
B() { in_ns b "$@"; }
X() { in_ns x "$@"; }
U() { in_ns u "$@"; }
CA() { in_ns ca "$@"; }
CB() { in_ns cb "$@"; }

# twice DESC CMD...: CMD succeeds twice in a row (idempotence).
twice() {
	local desc=$1; shift
	if "$@" >"$OUT" 2>&1 && "$@" >>"$OUT" 2>&1; then ok "$desc (x2)"; else
		ko "$desc (x2)"; sed 's/^/       | /' "$OUT" | head -5; fi
}
# has DESC PATTERN CMD... / hasnt: the output of CMD matches (does not match) PATTERN.
has() {
	local desc=$1 pat=$2; shift 2
	"$@" >"$OUT" 2>&1
	if grep -qE -- "$pat" "$OUT"; then ok "$desc"; else
		ko "$desc (no '$pat')"; sed 's/^/       | /' "$OUT" | head -8; fi
}
hasnt() {
	local desc=$1 pat=$2; shift 2
	"$@" >"$OUT" 2>&1
	if grep -qE -- "$pat" "$OUT"; then ko "$desc (found '$pat')"; sed 's/^/       | /' "$OUT" | head -8
	else ok "$desc"; fi
}
# same DESC EXPECTED CMD...: the sorted output of CMD is exactly EXPECTED (lines).
same() {
	local desc=$1 want; want=$(printf '%s\n' "$2" | sort); shift 2
	"$@" 2>&1 | sort >"$OUT"
	if [ "$(cat "$OUT")" = "$want" ]; then ok "$desc"; else
		ko "$desc"; echo "       | wanted:"; printf '%s\n' "$want" | sed 's/^/       |   /'
		echo "       | got:"; sed 's/^/       |   /' "$OUT"; fi
}
# noping_in NS ADDR: one ping that must get no answer.
noping_in() { ! in_ns "$1" busybox ping -c1 -W1 "$2" >/dev/null 2>&1; }
# neigh_pair NS IP4 IP6 MAC: both neighbour entries on vx0 of host NS.
neigh_pair() { in_ns "$1" "$NT" neigh-add vx0 "$2" "$4" && in_ns "$1" "$NT" neigh-add vx0 "$3" "$4"; }
# intruders: the echo requests from x that reached ca.
intruders() { CA nft list counter inet vxt intruder | awk '/packets/ { print $2 }'; }

# ---- the world: underlay bridge, three hosts, two containers ----
for n in $NSS; do bt_netns "$n" || exit 1; done
U ip link add ubr type bridge && U ip link set ubr up || exit 1
i=1
for h in a b x; do
	U ip link add "u$h" type veth peer name ul netns "/run/netns/$BT_ID-$h" || exit 1
	U ip link set "u$h" master ubr up
	in_ns $h ip addr add 192.0.2.$i/24 dev ul
	in_ns $h ip addr add 2001:db8:1::$i/64 dev ul nodad
	in_ns $h ip link set ul up
	i=$((i + 1))
done
for h in a b; do
	in_ns $h "$NT" bridge br0 0 || exit 1
	in_ns $h ip link add v0 type veth peer name eth0 netns "/run/netns/$BT_ID-c$h" || exit 1
	in_ns $h ip link set v0 master br0 up
done
CA ip link set eth0 address $MAC_A mtu 1430 up
CA ip addr add $IP4_A/24 dev eth0
CA ip addr add $IP6_A/64 dev eth0 nodad
CB ip link set eth0 address $MAC_B mtu 1430 up
CB ip addr add $IP4_B/24 dev eth0
CB ip addr add $IP6_B/64 dev eth0 nodad

# Counters on a host's underlay interface, by the frame inside the VXLAN packet (UDP header 8
# + VXLAN header 8 + MACs 12: the inner EtherType is at byte 28 of the transport header; an
# inner IPv6 header starts at byte 30, its next header at 36, ICMPv6 type at 70).
# ip4/echo6 prove the offsets: they must count the pings that the arp/ns rules would miss.
counters_add() {
	in_ns "$1" nft -f - <<-EOF
	table netdev vxt {
		counter inner_arp {}
		counter inner_ns {}
		counter inner_ip4 {}
		counter inner_echo6 {}
		chain in {
			type filter hook ingress device "ul" priority 0;
			udp dport 4789 @th,224,16 0x0806 counter name inner_arp
			udp dport 4789 @th,224,16 0x86dd @th,288,8 58 @th,560,8 135 counter name inner_ns
			udp dport 4789 @th,224,16 0x0800 counter name inner_ip4
			udp dport 4789 @th,224,16 0x86dd @th,288,8 58 @th,560,8 128 counter name inner_echo6
		}
	}
	EOF
}
count() { in_ns "$1" nft list counter netdev vxt "inner_$2" | awk '/packets/ { print $2 }'; }
is_zero() { [ "$(count "$1" "$2")" = 0 ]; }
is_positive() { [ "$(count "$1" "$2")" -gt 0 ]; }
tunnelled_pings_seen() { is_positive "$1" ip4 && is_positive "$1" echo6; }

# A container's neighbour cache, emptied of everything learnt.
flush() { in_ns "$1" ip neigh flush all; }

# ---- one run over an underlay of family $1 ----
overlay_run() {
	local fam=$1 va vb vx other mtu ipf jumbo
	if [ "$fam" = 4 ]; then
		va=192.0.2.1 vb=192.0.2.2 vx=192.0.2.3 other=2001:db8:1::2 mtu=1450 ipf=ip
		jumbo=198.51.100.1/24
	else
		va=2001:db8:1::1 vb=2001:db8:1::2 vx=2001:db8:1::3 other=192.0.2.2 mtu=1430 ipf=ip6
		jumbo=2001:db8:9::1/64
	fi
	say "== IPv$fam underlay (VTEPs $va, $vb)"

	say "-- devices"
	twice "a: vxlan create (VNI $VNI, local $va, underlay ul, master br0)" \
		A "$NT" vxlan vx0 $VNI $va 0 ul 0 br0
	twice "b: vxlan create" B "$NT" vxlan vx0 $VNI $vb 0 ul 0 br0
	has "vx0 is a VXLAN with that VNI, local address and underlay" \
		"vxlan id $VNI local $va dev ul " A ip -d link show vx0
	has "vx0 uses UDP port 4789 (not the kernel's 8472)" "dstport 4789 " A ip -d link show vx0
	has "vx0 does not learn and answers ARP/ND (proxy)" " nolearning proxy " A ip -d link show vx0
	hasnt "vx0 sends no miss notifications" "l2miss|l3miss" A ip -d link show vx0
	has "vx0 is a port of br0 and up" ",UP,.* master br0 " A ip link show vx0
	has "vx0 MTU is the underlay's 1500 minus $((1500 - mtu))" "mtu $mtu " A ip link show vx0
	has "vxlan-underlay: the interface holding $va, its MTU, and the VXLAN MTU (helper)" \
		"^[0-9]+ 1500 $mtu$" A "$NT" vxlan-underlay $va
	A ip link add jumbo mtu 9000 type veth peer name jumbo1 mtu 9000
	A ip addr add $jumbo dev jumbo nodad 2>/dev/null || A ip addr add $jumbo dev jumbo
	has "vxlan-underlay on a 9000-byte underlay" "^[0-9]+ 9000 $((9000 + mtu - 1500))$" \
		A "$NT" vxlan-underlay ${jumbo%/*}
	twice "vxlan over the 9000-byte underlay" A "$NT" vxlan vxj 4303 ${jumbo%/*} 0 jumbo 0 -
	has "the kernel derives the same MTU" "mtu $((9000 + mtu - 1500)) " A ip link show vxj
	A ip link del jumbo
	hasnt "deleting the underlay interface deletes the VXLAN device over it" "vxj" \
		A ip link show
	hasnt "vx0 has no IPv6 address of its own (no DAD/MLD over the tunnel)" "inet6" \
		A ip -6 addr show dev vx0
	check_err "same name, other VNI: refused" "its VNI is $VNI, not 4243" \
		A "$NT" vxlan vx0 4243 $va 0 ul 0 br0
	check_err "same name, other port: refused" "its UDP port is 4789, not 4790" \
		A "$NT" vxlan vx0 $VNI $va 4790 ul 0 br0
	check_err "same name, other local address: refused" "its local address is" \
		A "$NT" vxlan vx0 $VNI $other 0 ul 0 br0
	check_err "same VNI and port under another name: the kernel's reason" \
		"specified VNI already exists" A "$NT" vxlan vx9 $VNI $va 0 ul 0 br0
	check_err "a link of that name that is not a VXLAN device: refused" "not a VXLAN device" \
		A "$NT" vxlan br0 $VNI $va 0 ul 0 -
	check_err "a missing bridge: refused" "bridge nobr does not exist" \
		A "$NT" vxlan vx8 4250 $va 0 ul 0 nobr
	check_err "VNI out of range: refused" "out of range" A "$NT" vxlan vx8 16777216 $va 0 ul 0 -
	hasnt "refused devices are not left behind" "vx8|vx9" A ip link show
	twice "explicit MTU" A "$NT" vxlan vxm 4300 $va 0 ul 1300 -
	has "explicit MTU applied" "mtu 1300 " A ip link show vxm
	twice "no underlay device" A "$NT" vxlan vxn 4301 $va 0 - 0 -
	has "no underlay: the kernel's MTU (pass it: nlx_vxlan_underlay + nlx_vxlan_mtu)" \
		"mtu 1500 " A ip link show vxn
	# (socat's IPv6 socket is dual-stack; the kernel's VXLAN socket of an IPv6 device is not)
	nsenter --net=/run/netns/$BT_ID-a socat -u UDP$fam-RECV:4791 - >/dev/null 2>&1 &
	SOCAT_PID=$!
	check "a socket holds UDP 4791" wait_for 5 sh -c "nsenter --net=/run/netns/$BT_ID-a ss -Hlun 'sport = :4791' | grep -q ."
	check_err "port held by another socket: up fails, with the kernel's reason" \
		"Address already in use" A "$NT" vxlan vxp 4302 $va 4791 ul 0 br0
	hasnt "a device whose set-up failed is deleted" "vxp" A ip link show
	kill $SOCAT_PID; wait $SOCAT_PID 2>/dev/null; SOCAT_PID=
	for d in vxm vxn; do A "$NT" del $d; done

	say "-- before any entry"
	counters_add a && counters_add b || ko "nft counters on the underlay"
	check "no entries: ca cannot reach cb" noping_in ca $IP4_B

	say "-- entries"
	twice "a: forwarding entry cb's MAC -> $vb" A "$NT" fdb-add vx0 $MAC_B $vb
	twice "a: flood entry -> $vb" A "$NT" fdb-add vx0 flood $vb
	twice "a: neighbour $IP4_B -> cb's MAC" A "$NT" neigh-add vx0 $IP4_B $MAC_B
	twice "a: neighbour $IP6_B -> cb's MAC" A "$NT" neigh-add vx0 $IP6_B $MAC_B
	twice "b: forwarding entry ca's MAC -> $va" B "$NT" fdb-add vx0 $MAC_A $va
	twice "b: flood entry -> $va" B "$NT" fdb-add vx0 flood $va
	twice "b: neighbours of ca" neigh_pair b $IP4_A $IP6_A $MAC_A
	same "fdb-list returns what was added (appending twice added one VTEP)" \
		"$MAC_B $vb permanent
$ZERO $vb permanent" A "$NT" fdb-list vx0
	same "neigh-list returns what was added" "$IP4_B $MAC_B permanent
$IP6_B $MAC_B permanent" A "$NT" neigh-list vx0
	same "neigh-list of one family" "$IP6_B $MAC_B permanent" A "$NT" neigh-list vx0 6
	has "the kernel agrees (bridge fdb)" "$MAC_B dst $vb self permanent" A bridge fdb show dev vx0
	check_err "a VTEP of the other family: refused, saying why" "address family" \
		A "$NT" fdb-add vx0 $MAC_B $other

	say "-- reachability"
	flush ca
	check "ca pings cb over IPv4" in_ns ca busybox ping -c1 -W2 $IP4_B
	check "ca pings cb over IPv6" in_ns ca busybox ping -c1 -W2 $IP6_B
	check "cb pings ca over IPv4" in_ns cb busybox ping -c1 -W2 $IP4_A
	check "cb pings ca over IPv6" in_ns cb busybox ping -c1 -W2 $IP6_A
	has "ca resolved cb's IPv4 address to cb's MAC" "lladdr $MAC_B" CA ip neigh show $IP4_B
	has "ca resolved cb's IPv6 address to cb's MAC" "lladdr $MAC_B" CA ip neigh show $IP6_B
	for h in a b; do
		check "$h: no ARP crossed the underlay (answered by the local VXLAN device)" is_zero $h arp
		check "$h: no neighbour solicitation crossed the underlay (proxy ND)" is_zero $h ns
		check "$h: the counters see the tunnelled pings (offsets right)" tunnelled_pings_seen $h
	done

	say "-- deleting entries breaks reachability, re-adding restores it"
	twice "a: neighbour delete (IPv4)" A "$NT" neigh-del vx0 $IP4_B
	twice "a: neighbour delete (IPv6)" A "$NT" neigh-del vx0 $IP6_B
	same "neigh-list is empty" "" A "$NT" neigh-list vx0
	flush ca
	check "without neighbour entries ca cannot resolve cb (IPv4)" noping_in ca $IP4_B
	check "without neighbour entries ca cannot resolve cb (IPv6)" noping_in ca $IP6_B
	check "and no ARP crossed the underlay meanwhile" is_zero b arp
	check "and no neighbour solicitation either" is_zero b ns
	twice "a: neighbours re-added" neigh_pair a $IP4_B $IP6_B $MAC_B
	flush ca
	check "re-added: ca reaches cb (IPv4)" in_ns ca busybox ping -c1 -W2 $IP4_B
	check "re-added: ca reaches cb (IPv6)" in_ns ca busybox ping -c1 -W2 $IP6_B
	twice "a: forwarding entry delete" A "$NT" fdb-del vx0 $MAC_B $vb
	twice "a: flood list delete (every VTEP)" A "$NT" fdb-del vx0 flood
	same "fdb-list is empty" "" A "$NT" fdb-list vx0
	check "without forwarding entries ca cannot reach cb (IPv4)" noping_in ca $IP4_B
	check "without forwarding entries ca cannot reach cb (IPv6)" noping_in ca $IP6_B
	twice "a: flood entry re-added alone" A "$NT" fdb-add vx0 flood $vb
	check "the flood list alone carries unknown unicast: ca reaches cb" \
		in_ns ca busybox ping -c1 -W2 $IP4_B
	twice "a: forwarding entry re-added" A "$NT" fdb-add vx0 $MAC_B $vb
	twice "a: flood entry of $vb deleted" A "$NT" fdb-del vx0 flood $vb
	check "the unicast entry alone carries it: ca reaches cb (IPv4)" \
		in_ns ca busybox ping -c1 -W2 $IP4_B
	check "(IPv6)" in_ns ca busybox ping -c1 -W2 $IP6_B
	twice "a: a forwarding entry pointing elsewhere is not deleted" \
		A "$NT" fdb-del vx0 $MAC_B $vx
	twice "a: flood entry re-added" A "$NT" fdb-add vx0 flood $vb
	same "fdb-list: back to what was added" "$MAC_B $vb permanent
$ZERO $vb permanent" A "$NT" fdb-list vx0
	twice "a: deleting a missing neighbour succeeds" A "$NT" neigh-del vx0 fd00:200::77
	twice "a: deleting a missing forwarding entry succeeds" A "$NT" fdb-del vx0 02:42:00:00:00:77

	say "-- a VTEP that is not a member"
	twice "x: vxlan create (same VNI)" X "$NT" vxlan vxx $VNI $vx 0 ul 0 -
	X ip link set vxx address $MAC_X
	X ip addr add $IP4_X/24 dev vxx
	X "$NT" fdb-add vxx flood $va && X "$NT" neigh-add vxx $IP4_A $MAC_A ||
		ko "x: entries towards a"
	CA nft -f - <<-EOF
	table inet vxt {
		counter intruder {}
		chain in {
			type filter hook input priority 0;
			ip saddr $IP4_X icmp type echo-request counter name intruder
		}
	}
	EOF
	noping_in x $IP4_A
	check "x's packet reaches ca: the kernel takes VXLAN from any source (an nft allow-list must filter)" \
		test "$(intruders)" = 1
	A nft -f - <<-EOF
	table inet vxf {
		chain in {
			type filter hook input priority -10;
			udp dport 4789 $ipf saddr != { $vb } drop
		}
	}
	EOF
	noping_in x $IP4_A
	check "with 'udp dport 4789 $ipf saddr != { members } drop' on a, x's packet is dropped" \
		test "$(intruders)" = 1
	check "and the member still gets through" in_ns ca busybox ping -c1 -W2 $IP4_B
	A nft delete table inet vxf
	CA nft delete table inet vxt

	say "-- cost"
	if A "$NT" bench-vxlan 20 br0 $va >"$OUT" 2>&1; then ok "$(cat "$OUT")"; else
		ko "bench-vxlan"; cat "$OUT"; fi
	if A "$NT" bench-neigh 1000 vx0 $vx >"$OUT" 2>&1; then ok "$(cat "$OUT")"; else
		ko "bench-neigh"; cat "$OUT"; fi

	say "-- teardown"
	for h in a b; do
		twice "$h: vxlan delete" in_ns $h "$NT" del vx0
		in_ns $h nft delete table netdev vxt
	done
	X "$NT" del vxx
	hasnt "a: no VXLAN device left" "vx0|bxb" A ip link show
	hasnt "b: no VXLAN device left" "vx0" B ip link show
	flush ca; flush cb
}

overlay_run 4
overlay_run 6
bt_summary
